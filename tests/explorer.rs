//! The what-if explorer (`crisis-sim serve`) as its users and its neighbours meet it: it binds
//! 127.0.0.1 by default and refuses what it should (oversized bodies, other hosts, bad values,
//! absurd work); its answer is byte for byte the `results.json` of `crisis-sim run` on the
//! scenario it lets you download; and, in headless Chromium driven by playwright-core (CI
//! installs both: `.ci/run`), moving the care-team slider shows those same numbers.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{DEFAULT, binary, crisis_sim, path_str, scratch, text};

/// A running `crisis-sim serve`, stopped when dropped.
struct Served {
    child: Child,
    address: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The default city with `days` measured after its week of warm-up (a debug build simulates
/// a year slowly), and `replications`.
fn scenario(dir: &Path, days: u32, replications: u32) -> PathBuf {
    let path = dir.join("city.toml");
    let text = DEFAULT
        .replacen(
            "horizon_days = 372",
            &format!("horizon_days = {}", days + 7),
            1,
        )
        .replacen(
            "replications = 10",
            &format!("replications = {replications}"),
            1,
        );
    fs::write(&path, text).unwrap();
    path
}

fn serve(args: &[&str]) -> Served {
    let mut child = binary()
        .arg("serve")
        .args(args)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("Explorer: http://")
        .unwrap_or_else(|| {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("serve printed `{line}`, and on stderr: {stderr}")
        })
        .trim_end_matches('/')
        .to_string();
    Served {
        child,
        address: url.parse().unwrap(),
    }
}

/// One HTTP/1.1 exchange: (status, body).
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[&str],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|h| h.starts_with("Host:")) {
        request.push_str(&format!("Host: {address}\r\n"));
    }
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    if !headers.iter().any(|h| h.starts_with("Content-Length:")) {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The server may answer (and close) before reading a refused body.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response");
    let head = text(&response[..split]);
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = response[split + 4..].to_vec();
    if head.to_lowercase().contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    (status, body)
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(text(&data[..line_end]).trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}: {}", text(bytes)))
}

/// Waits for run `id` to finish; its last status.
fn finished(address: SocketAddr, id: u64) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, body) = http(address, "GET", &format!("/api/runs/{id}"), b"", &[]);
        assert_eq!(status, 200);
        let run = json(&body);
        if run["state"] != "running" {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "run {id} never ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An address of this machine other than loopback, if it has one.
fn other_address() -> Option<std::net::IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn it_binds_loopback_by_default_and_refuses_what_it_should() {
    let dir = scratch("explorer-safe");
    let served = serve(&[path_str(&scenario(&dir, 3, 2))]);
    let address = served.address;
    assert!(address.ip().is_loopback(), "{address}");
    if let Some(ip) = other_address() {
        assert!(
            TcpStream::connect_timeout(
                &SocketAddr::new(ip, address.port()),
                Duration::from_secs(2)
            )
            .is_err(),
            "reachable on {ip}"
        );
    }
    let (status, page) = http(address, "GET", "/", b"", &[]);
    assert_eq!(status, 200);
    assert!(text(&page).contains("What if care teams answered crisis calls?"));
    // Every asset is the binary's own: the page loads nothing from elsewhere.
    for asset in ["/", "/app.js", "/app.css"] {
        let body = text(&http(address, "GET", asset, b"", &[]).1);
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{asset}"
        );
    }
    // A body over the limit is refused before it is read.
    let (status, body) = http(
        address,
        "POST",
        "/api/runs",
        &vec![b' '; 70_000],
        &["Content-Type: application/json"],
    );
    assert_eq!(status, 413, "{}", text(&body));
    assert!(text(&body).contains("limited to 65536 bytes"));
    // A request addressed to another host (a page elsewhere rebinding its name here).
    let (status, _) = http(
        address,
        "GET",
        "/api/form",
        b"",
        &["Host: attacker.example:80"],
    );
    assert_eq!(status, 403);
    let (status, _) = http(address, "POST", "/api/runs", b"{not json", &[]);
    assert_eq!(status, 400);
    let (status, _) = http(address, "DELETE", "/api/runs/1", b"", &[]);
    assert_eq!(status, 405);
    // Refused values come back on their field, with the checker's words, and nothing runs.
    for (values, field, words) in [
        (r#"{"care.count": 0}"#, "care.count", "at least one unit"),
        (
            r#"{"care.count": "many"}"#,
            "care.count",
            "expected a number",
        ),
        (r#"{"calls_per_day": 5e6}"#, "calls_per_day", ""),
        (r#"{"replications": 100000}"#, "replications", "at most 200"),
        (r#"{"eligible_share": 1.5}"#, "eligible_share", "below 100%"),
    ] {
        let body = format!(r#"{{"values": {values}}}"#);
        let (status, reply) = http(address, "POST", "/api/runs", body.as_bytes(), &[]);
        assert_eq!(status, 422, "{values}: {}", text(&reply));
        let message = json(&reply)["refused"]["fields"][field]
            .as_str()
            .unwrap_or_else(|| panic!("{values}: {}", text(&reply)))
            .to_string();
        assert!(message.contains(words), "{values}: {message}");
    }
    let (status, _) = http(address, "GET", "/api/runs/1", b"", &[]);
    assert_eq!(status, 404, "no run started");
    fs::remove_dir_all(&dir).unwrap();
}

/// What the explorer answers is `crisis-sim run` on the scenario it hands back: the same
/// `results.json`, byte for byte; and a newer change cancels the run before it.
#[test]
fn its_answer_is_crisis_sim_run_on_the_scenario_it_hands_back() {
    let dir = scratch("explorer-same");
    let served = serve(&[path_str(&scenario(&dir, 4, 3))]);
    let address = served.address;
    let start = |values: &str| {
        let (status, reply) = http(address, "POST", "/api/runs", values.as_bytes(), &[]);
        assert_eq!(status, 200, "{}", text(&reply));
        json(&reply)["id"].as_u64().unwrap()
    };
    let older = start(r#"{"values": {"care.count": 3, "replications": 40}}"#);
    let id =
        start(r#"{"values": {"care.count": 12, "eligible_share": 0.2, "care.shift_hours": 24}}"#);
    let run = finished(address, id);
    assert_eq!(run["state"], "done");
    assert_eq!(run["done"], 3);
    assert_eq!(finished(address, older)["state"], "cancelled");
    let (status, toml) = http(
        address,
        "GET",
        &format!("/api/runs/{id}/scenario.toml"),
        b"",
        &[],
    );
    assert_eq!(status, 200);
    let toml = text(&toml);
    assert!(toml.contains("count = 12"), "{toml}");
    // The file's comments are kept.
    assert!(toml.contains("# Eight vans, 16 hours a day, every day: Denver STAR"));
    // Saved where a browser saves it, and run there as the page says.
    fs::write(dir.join("scenario.toml"), &toml).unwrap();
    let validate = binary()
        .current_dir(&dir)
        .args(["validate", "scenario.toml"])
        .output()
        .unwrap();
    assert!(validate.status.success(), "{}", text(&validate.stderr));
    let (status, served_json) = http(
        address,
        "GET",
        &format!("/api/runs/{id}/results.json"),
        b"",
        &[],
    );
    assert_eq!(status, 200);
    let out = dir.join("cli");
    let cli = binary()
        .current_dir(&dir)
        .args(["run", "scenario.toml", "-q", "--out", "cli"])
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let cli_json = fs::read(out.join("results.json")).unwrap();
    if served_json != cli_json {
        fs::write(dir.join("served.json"), &served_json).unwrap();
        panic!(
            "the explorer's results.json ({}) differs from crisis-sim run's ({})",
            dir.join("served.json").display(),
            out.join("results.json").display()
        );
    }
    let (status, report) = http(
        address,
        "GET",
        &format!("/api/runs/{id}/report.html"),
        b"",
        &[],
    );
    assert_eq!(status, 200);
    assert!(text(&report).contains("<h2>Findings</h2>"));
    // Side by side: the finished run and itself.
    let body = format!(r#"{{"runs": [{id}, {id}]}}"#);
    let (status, comparison) = http(address, "POST", "/api/compare", body.as_bytes(), &[]);
    assert_eq!(status, 200);
    assert_eq!(json(&comparison)["columns"].as_array().unwrap().len(), 4);
    let body = format!(r#"{{"runs": [{id}, {id}, {id}, {id}, {id}]}}"#);
    assert_eq!(
        http(address, "POST", "/api/compare", body.as_bytes(), &[]).0,
        400
    );
    fs::remove_dir_all(&dir).unwrap();
}

fn playwright_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explorer")
}

/// The browser test's tools: Node, playwright-core (`npm ci --prefix tests/explorer`) and
/// Debian's Chromium.
fn browser_tools() -> Result<(), String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("no /usr/bin/chromium".into());
    }
    if !playwright_dir()
        .join("node_modules/playwright-core")
        .exists()
    {
        return Err("no playwright-core (npm ci --prefix tests/explorer)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("no node".into()),
    }
}

#[test]
fn in_chromium_the_slider_shows_what_crisis_sim_run_computes() {
    if let Err(missing) = browser_tools() {
        assert!(
            std::env::var_os("CRISIS_SIM_REQUIRE_BROWSER").is_none(),
            "the explorer's browser test is required here, but: {missing}"
        );
        eprintln!("SKIPPED: {missing}");
        return;
    }
    let dir = scratch("explorer-browser");
    let served = serve(&[path_str(&scenario(&dir, 2, 3))]);
    // Screenshots go into docs/ when asked (scripts/explorer-screenshots.sh), else beside.
    let shots = if std::env::var_os("CRISIS_SIM_UPDATE_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
    } else {
        dir.clone()
    };
    let e2e = Command::new("timeout")
        .arg("600")
        .arg("node")
        .arg(playwright_dir().join("e2e.mjs"))
        .arg(format!("http://{}/", served.address))
        .arg(&dir)
        .arg(&shots)
        .output()
        .unwrap();
    assert!(
        e2e.status.success(),
        "{}\n{}",
        text(&e2e.stdout),
        text(&e2e.stderr)
    );
    eprintln!("{}", text(&e2e.stdout).trim());
    // What the page showed after the slider moved, against `crisis-sim run` of the scenario
    // the page handed over.
    let downloaded = dir.join("scenario.toml");
    let toml = fs::read_to_string(&downloaded).unwrap();
    assert!(
        toml.contains("count = 12"),
        "the slider's value is in the file"
    );
    let validate = crisis_sim(&["validate", path_str(&downloaded)]);
    assert!(validate.status.success(), "{}", text(&validate.stderr));
    let out = dir.join("cli");
    let cli = crisis_sim(&["run", path_str(&downloaded), "-q", "--out", path_str(&out)]);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let results = json(&fs::read(out.join("results.json")).unwrap());
    let shown = json(&fs::read(dir.join("figures.json")).unwrap());
    assert_eq!(shown["replications"], 3);
    assert!(shown["charts"].as_u64().unwrap() >= 1);
    let policies = results["policies"].as_array().unwrap();
    let mut compared = 0;
    for row in shown["figures"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        for cell in row["cells"].as_array().unwrap() {
            let policy = &policies[cell["policy"].as_u64().unwrap() as usize];
            let expected = if cell["kind"] == "estimate" {
                &policy["estimates"][key]
            } else {
                &policy["difference_vs_baseline"][key]
            };
            for (shown_field, file_field) in
                [("mean", "mean"), ("low", "ci_low"), ("high", "ci_high")]
            {
                let (a, b) = (&cell[shown_field], &expected[file_field]);
                // Both exact: NaN is null on both sides.
                assert!(
                    a == b || a.as_f64() == b.as_f64(),
                    "{key} {shown_field}: page {a}, crisis-sim run {b}"
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} cells compared");
    let refusal = fs::read_to_string(dir.join("refusal.txt")).unwrap();
    assert!(refusal.contains("at least one unit"), "{refusal}");
    let timings = json(&fs::read(dir.join("timings.json")).unwrap());
    assert!(
        timings["compare_columns"].as_u64().unwrap() >= 5,
        "{timings}"
    );
    assert!(
        timings["compare_charts"].as_u64().unwrap() >= 1,
        "{timings}"
    );
    // Nothing wider than the phone's screen (tables and charts scroll inside their boxes).
    assert!(
        timings["phone_scroll_width"].as_u64().unwrap() <= 390,
        "{timings}"
    );
    for shot in ["explorer-desktop.png", "explorer-mobile.png"] {
        assert!(
            fs::metadata(shots.join(shot)).unwrap().len() > 10_000,
            "{shot}"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}
