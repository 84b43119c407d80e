//! Debian's nginx with the shipped `nginx/nginx.conf` on loopback, a
//! self-signed certificate made here, in front of a real `nudge serve`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::stack::{self, Stack};
use crate::support::{free_port, read, run_ok, tool};

/// The public host name the test's Twilio signs for (resolved to loopback).
const HOST: &str = "nudge.test";

/// A prefix directory holding the shipped nginx.conf, certificates and pid.
pub struct NginxSite {
    pub dir: tempfile::TempDir,
    pub https_port: u16,
}

impl NginxSite {
    /// The shipped file with exactly three changes: the two listen ports and
    /// the upstream (in production `serve:8080`, the Compose service).
    pub fn prepare(http_port: u16, https_port: u16, upstream: &str) -> NginxSite {
        let shipped = read("nginx/nginx.conf");
        let mut conf = shipped.clone();
        for (from, to) in [
            (
                "listen 80 default_server;",
                format!("listen 127.0.0.1:{http_port} default_server;"),
            ),
            (
                "listen 443 ssl http2 default_server;",
                format!("listen 127.0.0.1:{https_port} ssl http2 default_server;"),
            ),
            ("server serve:8080 ", format!("server {upstream} ")),
        ] {
            assert_eq!(
                shipped.matches(from).count(),
                1,
                "nginx.conf should have one `{from}`"
            );
            conf = conf.replace(from, &to);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        run_ok(
            tool("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    &format!("/CN={HOST}"),
                    "-addext",
                    &format!("subjectAltName=DNS:{HOST}"),
                ])
                .arg("-keyout")
                .arg(certs.join("privkey.pem"))
                .arg("-out")
                .arg(certs.join("fullchain.pem")),
        );
        NginxSite { dir, https_port }
    }

    /// nginx's arguments: this prefix, this file, errors to stderr.
    pub fn args(&self) -> Vec<String> {
        let prefix = format!("{}/", self.dir.path().display());
        vec![
            "-p".into(),
            prefix.clone(),
            "-c".into(),
            format!("{prefix}nginx.conf"),
            "-e".into(),
            "stderr".into(),
        ]
    }

    pub fn access_log(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }
}

/// A running nginx; stopped (SIGTERM, so its workers go too) on drop.
struct Nginx {
    child: Child,
    site: NginxSite,
}

impl Nginx {
    async fn start(site: NginxSite) -> Nginx {
        let log = std::fs::File::create(site.access_log()).unwrap();
        let err = std::fs::File::create(site.dir.path().join("error.log")).unwrap();
        let child = tool("nginx")
            .args(site.args())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        let nginx = Nginx { child, site };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", nginx.site.https_port))
                .await
                .is_ok()
            {
                return nginx;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(nginx.site.dir.path().join("error.log")).unwrap_or_default()
        );
    }

    fn public_url(&self) -> String {
        format!("https://{HOST}:{}", self.site.https_port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// A `nudge serve` behind nginx: the stack's environment, plus what the
/// compose file sets (TRUSTED_PROXIES to nginx, the https public URL).
pub struct Served {
    child: Child,
    log: PathBuf,
    pub port: u16,
    pub metrics_port: u16,
}

impl Served {
    pub async fn start(stack: &Stack, public_url: &str, dir: &std::path::Path) -> Served {
        let port = free_port();
        let metrics_port = free_port();
        let log = dir.join("serve-behind-nginx.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = stack
            .command("serve")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("PUBLIC_BASE_URL", public_url)
            .env("TRUSTED_PROXIES", "127.0.0.1/32")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        let served = Served {
            child,
            log,
            port,
            metrics_port,
        };
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
                && r.status().is_success()
            {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nudge serve did not start: {}", served.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        stack::sigkill(&mut self.child);
    }
}

/// Twilio's own Python library signs `params` for `url` with the stack's token.
pub fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let arg =
        serde_json::json!({"token": stack::AUTH_TOKEN, "url": url, "params": map}).to_string();
    let out = run_ok(Command::new("python3").args([
        "-c",
        "import json,sys\nfrom twilio.request_validator import RequestValidator\n\
         a=json.loads(sys.argv[1])\nprint(RequestValidator(a['token']).compute_signature(a['url'], a['params']))",
        &arg,
    ]));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn client(https_port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        // The test's own self-signed certificate.
        .danger_accept_invalid_certs(true)
        .resolve(HOST, ([127, 0, 0, 1], https_port).into())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The whole edge, in one stack (starting nginx and the binaries is the slow part).
#[tokio::test(flavor = "multi_thread")]
async fn nginx_in_front_of_nudge_serve_keeps_every_promise() {
    let stack = Stack::start().await;
    let logs = tempfile::tempdir().unwrap();
    let (http_port, https_port) = (free_port(), free_port());
    let public = format!("https://{HOST}:{https_port}");
    let served = Served::start(&stack, &public, logs.path()).await;
    let nginx = Nginx::start(NginxSite::prepare(
        http_port,
        https_port,
        &format!("127.0.0.1:{}", served.port),
    ))
    .await;
    assert_eq!(nginx.public_url(), public);
    let http = client(https_port);

    // 1. A webhook signed by Twilio's library for the https public URL passes
    //    through nginx, is verified by the application and stored.
    let phone = "+15145550199";
    crate::common::create_user(&stack.db, "Edge", phone).await;
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let params = crate::common::sms::inbound_params(phone, "add milk to my list", &sid);
    let url = format!("{public}/twilio/sms");
    let signature = twilio_signature(&url, &params);
    let resp = http
        .post(&url)
        .header("x-twilio-signature", &signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", served.log());
    let hsts = resp.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(hsts.contains("max-age="), "{hsts}");
    let stored = stack
        .count(&format!(
            "select count(*) from messages where provider_message_id = '{sid}'"
        ))
        .await;
    assert_eq!(stored, 1, "the webhook's message is stored");

    // A signature for another URL (or a forged one) is refused and nothing is stored.
    let sid2 = format!("SM{}", uuid::Uuid::new_v4().simple());
    let params2 = crate::common::sms::inbound_params(phone, "forged", &sid2);
    let wrong = twilio_signature(&format!("http://{HOST}:{http_port}/twilio/sms"), &params2);
    let resp = http
        .post(&url)
        .header("x-twilio-signature", wrong)
        .form(&params2)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        stack
            .count(&format!(
                "select count(*) from messages where provider_message_id = '{sid2}'"
            ))
            .await,
        0
    );

    // 2. TLS 1.3 is negotiated; TLS 1.1 is refused.
    let s_client = |version: &str| {
        Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{https_port}"),
                "-servername",
                HOST,
                version,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let tls13 = s_client("-tls1_3");
    let said = String::from_utf8_lossy(&tls13.stdout);
    assert!(said.contains("New, TLSv1.3, Cipher is TLS_"), "{said}");
    let tls11 = s_client("-tls1_1");
    assert!(!tls11.status.success());
    assert!(String::from_utf8_lossy(&tls11.stdout).contains("Cipher is (NONE)"));

    // 3. HTTP/2 with curl, as the issue asks.
    let curl = run_ok(tool("curl").args([
        "--http2",
        "-sk",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        "--resolve",
        &format!("{HOST}:{https_port}:127.0.0.1"),
        &format!("{public}/healthz"),
    ]));
    assert_eq!(String::from_utf8_lossy(&curl.stdout), "2");

    // 4. /metrics is never proxied.
    for path in ["/metrics", "/metrics/", "/metrics?x=1"] {
        assert_eq!(
            http.get(format!("{public}{path}"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{path}"
        );
    }

    // 5. x-request-id: a caller's id reaches the application's log and comes
    //    back; without one, nginx makes one and the application logs that.
    //    (A signed text from an alphanumeric sender is logged at info level.)
    let given = format!("edge-test-{}", uuid::Uuid::new_v4().simple());
    let sid3 = format!("SM{}", uuid::Uuid::new_v4().simple());
    let params3 = crate::common::sms::inbound_params("NUDGEALERT", "promo", &sid3);
    let resp = http
        .post(&url)
        .header("x-twilio-signature", twilio_signature(&url, &params3))
        .header("x-request-id", &given)
        .form(&params3)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get_all("x-request-id").iter().count(), 1);
    assert_eq!(resp.headers()["x-request-id"], given.as_str());
    let sid4 = format!("SM{}", uuid::Uuid::new_v4().simple());
    let params4 = crate::common::sms::inbound_params("NUDGEALERT", "promo", &sid4);
    let resp = http
        .post(&url)
        .header("x-twilio-signature", twilio_signature(&url, &params4))
        .form(&params4)
        .send()
        .await
        .unwrap();
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 32, "nginx's $request_id: {generated}");
    let mut log = String::new();
    for _ in 0..50 {
        log = served.log();
        if log.contains(&given) && log.contains(&generated) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        log.contains(&format!("\"request_id\":\"{given}\"")),
        "caller's id not in the app log:\n{log}"
    );
    assert!(
        log.contains(&format!("\"request_id\":\"{generated}\"")),
        "nginx's id not in the app log"
    );
    let access = std::fs::read_to_string(nginx.site.access_log()).unwrap();
    let line = access
        .lines()
        .find(|l| l.contains(&given))
        .expect("nginx logs the id");
    let entry: serde_json::Value = serde_json::from_str(line).expect("access log lines are JSON");
    assert_eq!(entry["uri"], "/twilio/sms");
    assert_eq!(entry["tls"], "TLSv1.3");
    assert!(
        !access.contains(&signature),
        "signatures never reach the access log"
    );

    // 6. Port 80: browsers are sent to https with a 308; a webhook aimed at
    //    http:// is refused (its signature would be over the wrong URL).
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = plain
        .get(format!("http://127.0.0.1:{http_port}/healthz"))
        .header("host", HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 308);
    assert_eq!(
        resp.headers()["location"],
        format!("https://{HOST}/healthz").as_str()
    );
    let resp = plain
        .post(format!("http://127.0.0.1:{http_port}/twilio/sms"))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 421);

    // 7. Bodies over 64 KiB stop at nginx.
    let big = "x".repeat(70 * 1024);
    let resp = http
        .post(&url)
        .form(&[("Body", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);

    // 8. Past its burst the general zone answers 429 (5 r/s, burst 20: 100
    //    requests sent at once would need 16 s to all pass).
    let burst = statuses_at_once(&http, &format!("{public}/healthz"), 100).await;
    let limited = burst.iter().filter(|s| **s == 429).count();
    let passed = burst.iter().filter(|s| **s == 200).count();
    assert!(
        limited > 0 && passed >= 20,
        "200: {passed}, 429: {limited}, all: {burst:?}"
    );
    assert_eq!(limited + passed, 100, "{burst:?}");
}

async fn statuses_at_once(http: &reqwest::Client, url: &str, n: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let http = http.clone();
        let url = url.to_string();
        tasks.spawn(async move {
            http.get(url)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses
}
