//! The seat map's pictures (CONTRACT.md, "Reserved seating"): the SVG, and the page that
//! shows it, tested in a real headless browser (Debian's `chromium`, which `scripts/test`
//! installs and names in `BOXOFFICE_TEST_CHROMIUM`): it loads, shows one shape per seat, and a
//! seat held through the API changes colour within a refresh.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::backend_tests;
use crate::harness::TestApp;
use crate::seating::{create_seated, hold_named, theatre_chart};

/// The browser, or `None` (and why) when this run has none.
fn chromium() -> Option<String> {
    match std::env::var("BOXOFFICE_TEST_CHROMIUM") {
        Ok(path) if !path.is_empty() => Some(path),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "true" | "1" | "yes"));
            assert!(
                !ci,
                "BOXOFFICE_TEST_CHROMIUM is not set: run the tests with scripts/test"
            );
            eprintln!(
                "seat map browser test NOT run: no BOXOFFICE_TEST_CHROMIUM (use scripts/test)"
            );
            None
        }
    }
}

/// How many times the server has answered a seat map SVG (from `/metrics`).
async fn svg_answers(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with("http_requests_total{") && line.contains("seatmap.svg"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// The `data-status` of the seat whose `<title>` is `label`, in a DOM or SVG text.
pub fn status_of(dom: &str, label: &str) -> Option<String> {
    let end = dom.find(&format!("<title>{label}</title>"))?;
    let start = dom[..end].rfind("<rect")?;
    let tag = &dom[start..end];
    let at = tag.find("data-status=\"")? + "data-status=\"".len();
    Some(tag[at..].split('"').next()?.to_owned())
}

backend_tests! {
    async fn the_seat_map_is_drawn_and_its_page_refreshes_in_a_browser(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let event = create_seated(&app, theatre_chart()).await.id();
        let user = app.register("Viv").await;
        hold_named(&app, &event, &user, &["stalls-B-2"], "first").await;

        // The picture: one shape per seat, its label as <title>, coloured by status.
        let svg = app.client.get(app.url(&format!("/api/events/{event}/seatmap.svg"))).send().await.unwrap();
        assert_eq!(svg.status(), 200);
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        let svg = svg.text().await.unwrap();
        assert_eq!(svg.matches("class=\"seat\"").count(), 29);
        assert_eq!(status_of(&svg, "stalls-B-2").as_deref(), Some("HELD"));
        assert_eq!(status_of(&svg, "stalls-A-7").as_deref(), Some("FREE"));
        assert!(svg.contains(">Stalls</text>") && svg.contains("FREE 28") && svg.contains("HELD 1"));
        app.get("/api/events/5f0000000000000000000000/seatmap.svg").await.assert_error(404, "Event not found");
        app.get("/seatmap/nonsense").await.assert_error(404, "Event not found");
        let ga = app.create_event(3).await;
        app.get(&format!("/seatmap/{ga}")).await.assert_error(400, "Event has no seating chart");

        // The page: its own script only, by a nonce in its Content-Security-Policy.
        let page = app.client.get(app.url(&format!("/seatmap/{event}"))).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let html = page.text().await.unwrap();
        let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
        assert!(html.contains(&format!("<script nonce=\"{nonce}\">")), "{policy}");
        assert!(policy.contains("connect-src 'self'") && policy.starts_with("default-src 'none'"));

        let Some(chromium) = chromium() else { return };
        let profile = tempfile::tempdir().unwrap();
        let mut browser = tokio::process::Command::new(chromium)
            .args([
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            // Timers run in virtual time (each refresh's 2 s pass at once), network in real
            // time: the page refreshes about thirty times before its DOM is printed.
            .arg("--virtual-time-budget=60000")
            .arg("--dump-dom")
            .arg(app.url(&format!("/seatmap/{event}")))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let mut stdout = browser.stdout.take().unwrap();
        let dom = tokio::spawn(async move {
            let mut dom = String::new();
            stdout.read_to_string(&mut dom).await.map(|_| dom)
        });

        // Once the page has drawn the map, a seat is held through the API...
        let started = Instant::now();
        while svg_answers(&app).await < 2 {
            assert!(started.elapsed() < Duration::from_secs(60), "the page never loaded the map");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let held = hold_named(&app, &event, &user, &["stalls-A-7"], "while-watched").await;
        assert_eq!(held.status, 201, "{}", held.body);
        let at_hold = svg_answers(&app).await;
        let status = tokio::time::timeout(Duration::from_secs(90), browser.wait()).await
            .expect("chromium finishes").unwrap();
        assert!(status.success(), "chromium: {status:?}");
        let dom = dom.await.unwrap().unwrap();
        // ...and the page, refreshed since, shows it in its new colour.
        assert!(svg_answers(&app).await > at_hold, "the page refreshed after the hold");
        assert_eq!(dom.matches("class=\"seat\"").count(), 29, "one shape per seat");
        assert_eq!(status_of(&dom, "stalls-A-7").as_deref(), Some("HELD"));
        assert_eq!(status_of(&dom, "stalls-A-8").as_deref(), Some("FREE"));
        let loads: u32 = dom.split("data-loads=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        assert!(loads >= 2, "the page loaded the map {loads} times");
        assert!(dom.contains("fill=\"#f0b429\" data-status=\"HELD\"><title>stalls-A-7</title>"));
        app.stop().await;
    }
}
