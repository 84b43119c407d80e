//! A small HTTP load generator for `bench/all.sh`, in two modes:
//!
//! - open loop (`--rate R`): request *i* is scheduled at `start + i / R`
//!   whatever happened to the ones before, and its latency is measured from
//!   that scheduled instant (latency correction: a stalled server is charged
//!   for the requests it kept waiting, no coordinated omission);
//! - closed loop (`--connections C`): C connections send back to back, for
//!   the saturation throughput.
//!
//! Why not `oha`: it is a well-kept open-loop generator on crates.io, but
//! installing it compiles a few hundred crates of its own; everything this
//! needs (tokio, reqwest) is already built for the project, and the
//! requests are Twilio webhooks pre-signed by Twilio's own library
//! (`bench/sign_requests.py`), replayed once each.
//!
//! `cargo bench --bench loadgen -- --url URL [--requests FILE] (--rate R | --connections C) --seconds S`
//! prints one line: `loadgen mode=… sent=… ok=… failed=… rps=… p50_ms=… p99_ms=… p999_ms=…`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request to replay: a signed form body, or a plain GET without one.
#[derive(Clone)]
struct Planned {
    signature: String,
    body: String,
}

struct Args {
    url: String,
    requests: Option<String>,
    rate: Option<f64>,
    connections: Option<usize>,
    seconds: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        requests: None,
        rate: None,
        connections: None,
        seconds: 10.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => args.url = value()?,
            "--requests" => args.requests = Some(value()?),
            "--rate" => args.rate = Some(value()?.parse().map_err(|_| "bad --rate")?),
            "--connections" => {
                args.connections = Some(value()?.parse().map_err(|_| "bad --connections")?)
            }
            "--seconds" => args.seconds = value()?.parse().map_err(|_| "bad --seconds")?,
            // cargo bench passes --bench; anything else is a mistake.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.url.is_empty() || args.rate.is_some() == args.connections.is_some() {
        return Err(
            "usage: loadgen --url URL [--requests FILE] (--rate R | --connections C) [--seconds S]"
                .into(),
        );
    }
    Ok(args)
}

fn load(path: &Option<String>) -> Result<Vec<Planned>, String> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(s, b)| Planned {
            signature: s.to_owned(),
            body: b.to_owned(),
        })
        .collect())
}

/// Sends request number `n`; true when the answer was a 2xx.
async fn send(client: &reqwest::Client, url: &str, planned: &[Planned], n: usize) -> bool {
    let request = match planned.get(n) {
        Some(p) => client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", &p.signature)
            .body(p.body.clone()),
        None => client.get(url),
    };
    match request.send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let planned = match load(&args.requests) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    if let Some(rate) = args.rate
        && !planned.is_empty()
        && planned.len() < (rate * args.seconds) as usize
    {
        // A replayed webhook is a duplicate: cheaper, and not what is measured.
        eprintln!(
            "loadgen: {} requests in the file, {} needed",
            planned.len(),
            (rate * args.seconds) as usize
        );
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(1024)
        .build()
        .expect("http client");
    let duration = Duration::from_secs_f64(args.seconds);
    let (samples, failed, elapsed, mode) = rt.block_on(async {
        let failed = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut samples: Vec<Duration> = Vec::new();
        let mode;
        if let Some(rate) = args.rate {
            mode = format!("open rate={rate}");
            let total = (rate * args.seconds) as usize;
            let mut tasks = Vec::with_capacity(total);
            for i in 0..total {
                let scheduled = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(scheduled.into()).await;
                let (client, url, planned, failed) = (
                    client.clone(),
                    args.url.clone(),
                    planned.clone(),
                    failed.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    if !send(&client, &url, &planned, i).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    scheduled.elapsed()
                }));
            }
            for t in tasks {
                samples.push(t.await.expect("request task"));
            }
        } else {
            let connections = args.connections.unwrap_or(1);
            mode = format!("closed connections={connections}");
            let next = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for _ in 0..connections {
                let (client, url, planned, failed, next) = (
                    client.clone(),
                    args.url.clone(),
                    planned.clone(),
                    failed.clone(),
                    next.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while started.elapsed() < duration {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if !planned.is_empty() && n >= planned.len() {
                            break;
                        }
                        let t0 = Instant::now();
                        if !send(&client, &url, &planned, n).await {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        mine.push(t0.elapsed());
                    }
                    mine
                }));
            }
            for t in tasks {
                samples.extend(t.await.expect("connection task"));
            }
        }
        (
            samples,
            failed.load(Ordering::Relaxed),
            started.elapsed(),
            mode,
        )
    });
    let mut samples = samples;
    samples.sort();
    let pct = |p: f64| {
        samples
            .get(((samples.len() as f64 * p) as usize).min(samples.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "loadgen mode={mode} sent={} ok={} failed={failed} rps={:.1} p50_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2}",
        samples.len(),
        samples.len() - failed,
        samples.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
}
