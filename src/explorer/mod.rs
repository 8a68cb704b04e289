//! The what-if explorer (`crisis-sim serve`): a local web page where a person who never opens a
//! terminal changes a city's key numbers and sees the simulation answer, with its intervals
//! tightening as replications complete. Its pieces:
//!
//! | file | its job |
//! |---|---|
//! | [`form`] | the fields, read from the scenario file with their sources; a change written back into that file's text and checked |
//! | [`runs`] | background runs in rounds of replications, the newest cancelling the older |
//! | [`view`] | what the page shows of results (and of pinned variants side by side) |
//! | `assets/` | the page, its script and its style, compiled into the binary |
//!
//! It is safe by default: it listens on 127.0.0.1 only, answers only requests addressed to that
//! host (a page elsewhere cannot reach it through DNS rebinding), reads only the scenario it
//! was given, writes no file, refuses request bodies over [`MAX_BODY_BYTES`], and runs one
//! bounded simulation at a time (see [`form::MAX_SIMULATED_CALLS`]).

pub mod form;
pub mod runs;
pub mod view;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::output;
use form::Form;
use runs::{Runs, State};

/// The largest request body the explorer reads (a form's values are a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Requests handled at once (a report or a chart can take a moment; polls go on meanwhile).
const WORKERS: usize = 4;

/// Most variants the page compares side by side.
pub const MAX_PINNED: usize = 4;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Where and what to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The scenario's text and how messages name it.
    pub scenario_text: String,
    pub scenario_file: String,
    pub host: IpAddr,
    /// 0: any free port.
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Scenario(String),
    #[error("cannot listen on {address}: {message}")]
    Bind { address: String, message: String },
}

/// A bound explorer, not yet answering.
pub struct Explorer {
    server: Arc<Server>,
    app: Arc<App>,
}

struct App {
    form: Form,
    runs: Runs,
    /// `Host` header values accepted (on a loopback address); `None`: any.
    hosts: Option<Vec<String>>,
}

impl Explorer {
    /// Checks the scenario and binds the address.
    pub fn bind(options: &ServeOptions) -> Result<Self, ServeError> {
        let form = Form::new(&options.scenario_text, &options.scenario_file)
            .map_err(ServeError::Scenario)?;
        let address = SocketAddr::new(options.host, options.port);
        let server = Server::http(address).map_err(|e| ServeError::Bind {
            address: address.to_string(),
            message: e.to_string(),
        })?;
        let port = server
            .server_addr()
            .to_ip()
            .map_or(options.port, |a| a.port());
        let hosts = options.host.is_loopback().then(|| {
            ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .map(|h| format!("{h}:{port}"))
                .collect()
        });
        Ok(Self {
            server: Arc::new(server),
            app: Arc::new(App {
                form,
                runs: Runs::default(),
                hosts,
            }),
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Answers requests until the process ends.
    pub fn run(self) {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (server, app) = (Arc::clone(&self.server), Arc::clone(&self.app));
                std::thread::spawn(move || {
                    while let Ok(request) = server.recv() {
                        app.answer(request);
                    }
                })
            })
            .collect();
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// The values of a form, as the page posts them.
#[derive(Deserialize)]
struct RunRequest {
    values: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct CompareRequest {
    runs: Vec<u64>,
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Response::from_data(body.into())
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ))
}

fn json_reply(status: u16, body: &serde_json::Value) -> Reply {
    reply(status, "application/json", body.to_string())
}

fn error_reply(status: u16, message: &str) -> Reply {
    json_reply(status, &json!({ "error": message }))
}

fn download(content_type: &str, name: &str, body: impl Into<Vec<u8>>) -> Reply {
    reply(200, content_type, body).with_header(header(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    ))
}

/// A form value as a number (`NaN`, refused on its field, when it is not one).
fn as_number(value: &serde_json::Value) -> f64 {
    match value {
        serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

impl App {
    fn answer(&self, mut request: Request) {
        let response = self.route(&mut request);
        let _ = request.respond(response);
    }

    fn body(request: &mut Request) -> Result<Vec<u8>, Reply> {
        let too_large = || {
            error_reply(
                413,
                &format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        };
        if request.body_length().is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        request
            .as_reader()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| error_reply(400, &format!("cannot read the request: {e}")))?;
        if body.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        Ok(body)
    }

    fn route(&self, request: &mut Request) -> Reply {
        if let Some(hosts) = &self.hosts {
            let host = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Host"))
                .map(|h| h.value.as_str().to_string());
            if !host.is_some_and(|h| hosts.contains(&h)) {
                return error_reply(403, "this explorer answers only requests addressed to it");
            }
        }
        let url = request.url().to_string();
        let path = url.split('?').next().unwrap_or("");
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let method = request.method().clone();
        match (&method, parts.as_slice()) {
            (Method::Get, [""] | ["index.html"]) => {
                reply(200, "text/html; charset=utf-8", INDEX_HTML)
            }
            (Method::Get, ["app.js"]) => reply(200, "text/javascript; charset=utf-8", APP_JS),
            (Method::Get, ["app.css"]) => reply(200, "text/css; charset=utf-8", APP_CSS),
            (Method::Get, ["api", "form"]) => json_reply(
                200,
                &json!({
                    "scenario": self.form.scenario_name,
                    "policies": self.form.policies,
                    "fields": self.form.fields,
                    "max_pinned": MAX_PINNED,
                }),
            ),
            (Method::Post, ["api", "runs"]) => match Self::body(request) {
                Ok(body) => self.start(&body),
                Err(reply) => reply,
            },
            (Method::Post, ["api", "compare"]) => match Self::body(request) {
                Ok(body) => self.compare(&body),
                Err(reply) => reply,
            },
            (Method::Get, ["api", "runs", id]) => self.with_run(id, |run| {
                let progress = run.progress();
                json_reply(
                    200,
                    &json!({
                        "id": run.id,
                        "state": progress.state,
                        "done": progress.done,
                        "total": progress.total,
                        "error": progress.error,
                        "first_answer_ms": progress.first_answer_ms,
                        "last_answer_ms": progress.last_answer_ms,
                        "view": progress.view.as_deref(),
                    }),
                )
            }),
            (Method::Post, ["api", "runs", id, "cancel"]) => self.with_run(id, |run| {
                run.cancel();
                json_reply(200, &json!({ "id": run.id }))
            }),
            (Method::Get, ["api", "runs", id, "scenario.toml"]) => self.with_run(id, |run| {
                download(
                    "application/toml",
                    form::DOWNLOAD_NAME,
                    run.settings.text.clone(),
                )
            }),
            (Method::Get, ["api", "runs", id, file @ ("results.json" | "report.html")]) => {
                let file = *file;
                self.with_run(id, |run| {
                    let progress = run.progress();
                    let (State::Done, Some(results)) = (progress.state, progress.results) else {
                        return error_reply(409, "the run has not finished");
                    };
                    if file == "results.json" {
                        return download("application/json", file, output::results_json(&results));
                    }
                    match output::report_html(&results, Some(&run.settings.text), None, None) {
                        Ok(html) => download("text/html; charset=utf-8", file, html),
                        Err(e) => error_reply(500, &e.to_string()),
                    }
                })
            }
            (Method::Get | Method::Post, _) => error_reply(404, "no such page"),
            _ => error_reply(405, "only GET and POST are answered"),
        }
    }

    fn with_run(&self, id: &str, answer: impl FnOnce(&runs::Run) -> Reply) -> Reply {
        match id.parse().ok().and_then(|id| self.runs.get(id)) {
            Some(run) => answer(&run),
            None => error_reply(404, "no such run (only the latest runs are kept)"),
        }
    }

    /// Checks the form's values and starts their run.
    fn start(&self, body: &[u8]) -> Reply {
        let request: RunRequest = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(e) => return error_reply(400, &format!("expected {{\"values\": {{...}}}}: {e}")),
        };
        let values = request
            .values
            .iter()
            .map(|(id, value)| (id.clone(), as_number(value)))
            .collect();
        match self.form.apply(&values) {
            Ok(settings) => {
                let run = self.runs.start(settings);
                json_reply(200, &json!({ "id": run.id, "total": run.progress().total }))
            }
            Err(refusal) => json_reply(422, &json!({ "refused": refusal })),
        }
    }

    fn compare(&self, body: &[u8]) -> Reply {
        let request: CompareRequest = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(e) => return error_reply(400, &format!("expected {{\"runs\": [...]}}: {e}")),
        };
        if request.runs.len() > MAX_PINNED {
            return error_reply(400, &format!("at most {MAX_PINNED} variants side by side"));
        }
        let mut kept = Vec::new();
        for id in &request.runs {
            let Some(results) = self.runs.get(*id).and_then(|run| run.progress().results) else {
                return error_reply(404, &format!("run {id} is no longer kept: pin it again"));
            };
            kept.push(results);
        }
        let variants: Vec<(String, &crate::experiment::Results)> = kept
            .iter()
            .enumerate()
            .map(|(i, results)| ((i + 1).to_string(), results.as_ref()))
            .collect();
        match serde_json::to_value(view::compare(&variants)) {
            Ok(value) => json_reply(200, &value),
            Err(e) => error_reply(500, &e.to_string()),
        }
    }
}
