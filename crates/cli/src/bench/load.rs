//! A small HTTP load client for the read benchmark: N connections, each a
//! keep-alive HTTP/1.1 connection sending its requests one after another,
//! recording each request's latency. Written on hyper's connection API so
//! the client costs little beside the server on a 2-core machine (a Python
//! client would saturate the cores first and measure itself).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request to repeat: method, path (with query), headers, body.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// Extra headers (cookies, authorization, content type).
    pub headers: Vec<(String, String)>,
    /// Body (empty for GET).
    pub body: String,
}

impl Call {
    /// A GET of `path` with `headers`.
    pub fn get(path: impl Into<String>, headers: &[(String, String)]) -> Call {
        Call { method: "GET", path: path.into(), headers: headers.to_vec(), body: String::new() }
    }

    /// A form POST of `fields` to `path` with `headers`.
    pub fn post_form(path: impl Into<String>, headers: &[(String, String)], fields: &[(&str, &str)]) -> Call {
        let body = fields.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>().join("&");
        let mut headers = headers.to_vec();
        headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        Call { method: "POST", path: path.into(), headers, body }
    }
}

/// Percent-encodes a form value.
pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Each request's latency.
    pub latencies: Vec<Duration>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Responses whose status was not the expected one.
    pub unexpected: usize,
}

impl Measured {
    /// The `p` quantile (0..=1) of the latencies, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
    }

    /// Requests per second over the run.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A response: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
    /// `Location`, when redirected.
    pub location: Option<String>,
    /// The body as text.
    pub body: String,
}

async fn connect(addr: SocketAddr) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("bench connection closed: {e}");
        }
    });
    Ok(sender)
}

async fn send(sender: &mut http1::SendRequest<Full<Bytes>>, addr: SocketAddr, call: &Call) -> Result<Answer, String> {
    let mut request = Request::builder().method(call.method).uri(&call.path).header("host", addr.to_string());
    for (name, value) in &call.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(Full::new(Bytes::from(call.body.clone()))).map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("{} {}: {e}", call.method, call.path))?;
    let status = response.status().as_u16();
    let cookies = response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer { status, cookies, location, body: String::from_utf8_lossy(&body).into_owned() })
}

/// One request on a fresh connection (sign-in and setup steps).
pub async fn once(addr: SocketAddr, call: &Call) -> Result<Answer, String> {
    let mut sender = connect(addr).await?;
    send(&mut sender, addr, call).await
}

/// Sends `total` requests over `clients` connections, the calls taken in
/// turn from `calls`, and measures each; `expect` is the status a correct
/// answer has.
pub async fn run(addr: SocketAddr, calls: Arc<Vec<Call>>, clients: usize, total: usize, expect: u16) -> Result<Measured, String> {
    let clients = clients.max(1);
    let mut senders = Vec::with_capacity(clients);
    for _ in 0..clients {
        senders.push(connect(addr).await?);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for (c, mut sender) in senders.into_iter().enumerate() {
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut unexpected = 0;
            let mut i = c;
            while i < total {
                let call = &calls[i % calls.len()];
                let t = Instant::now();
                let answer = send(&mut sender, addr, call).await?;
                latencies.push(t.elapsed());
                if answer.status != expect {
                    unexpected += 1;
                }
                i += clients;
            }
            Ok::<_, String>((latencies, unexpected))
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut unexpected = 0;
    for task in tasks {
        let (l, u) = task.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        unexpected += u;
    }
    Ok(Measured { latencies, elapsed: started.elapsed(), unexpected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_encoding() {
        let m = Measured { latencies: (1..=100).map(Duration::from_millis).collect(), elapsed: Duration::from_secs(1), unexpected: 0 };
        assert_eq!(m.percentile_ms(0.5).round(), 51.0);
        assert_eq!(m.percentile_ms(0.99).round(), 99.0);
        assert_eq!(m.rate().round(), 100.0);
        assert_eq!(form_encode("a b&=é"), "a%20b%26%3D%C3%A9");
    }
}
