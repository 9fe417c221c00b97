//! The seat map page, `GET /seatmap/:id`: one HTML document with no outside assets that
//! shows the event's seat map inline and fetches it again every two seconds, so that a hold
//! made anywhere shows within a refresh. The map is put inline (not as an `<img>`) so that
//! each seat is an element of the page, with its label as a tooltip.

use quick_xml::escape::escape;

/// How often the page fetches the map again.
pub const REFRESH_MILLISECONDS: u32 = 2000;

/// The page's only script, constant so that a Content-Security-Policy can allow exactly it
/// by its hash. It reads the map's address from `#map[data-src]`, and counts successful loads
/// in `data-loads` (a browser test can tell a refresh from the first load).
pub const PAGE_SCRIPT: &str = r#"(function () {
  var map = document.getElementById("map");
  var status = document.getElementById("status");
  var loads = 0;
  function load() {
    fetch(map.getAttribute("data-src"), { cache: "no-store" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (svg) {
        map.innerHTML = svg;
        loads += 1;
        map.setAttribute("data-loads", String(loads));
        status.textContent = "Updated " + new Date().toLocaleTimeString();
      })
      .catch(function (error) {
        status.textContent = "Could not load the seat map (" + error.message + "); retrying";
      })
      .finally(function () { setTimeout(load, 2000); });
  }
  load();
})();"#;

const STYLE: &str = "body{font-family:sans-serif;margin:1rem;color:#1f2933}\
#map svg{max-width:100%;height:auto}#status{color:#52606d;font-size:.9rem}";

/// The page for the event `event_id` named `name`. The map comes from
/// `/api/events/{event_id}/seatmap.svg`.
///
/// `nonce` (letters and digits) marks the page's script and style as its own, for a
/// Content-Security-Policy that allows nothing else.
pub fn seat_map_page(event_id: &str, name: &str, nonce: &str) -> String {
    let name = escape(name);
    let src = escape(format!("/api/events/{event_id}/seatmap.svg"));
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seat map: {name}</title>
<style nonce="{nonce}">{STYLE}</style>
</head>
<body>
<h1>{name}</h1>
<p id="status">Loading the seat map…</p>
<div id="map" data-src="{src}" data-loads="0"></div>
<script nonce="{nonce}">{PAGE_SCRIPT}</script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_its_script_and_no_outside_asset() {
        let page = seat_map_page("65a1b2c3d4e5f60718293a4b", "Hamlet <live>", "n0nce");
        assert!(page.contains("<title>Seat map: Hamlet &lt;live&gt;</title>"));
        assert!(page.contains(r#"data-src="/api/events/65a1b2c3d4e5f60718293a4b/seatmap.svg""#));
        assert!(page.contains(&format!("<script nonce=\"n0nce\">{PAGE_SCRIPT}</script>")));
        assert!(PAGE_SCRIPT.contains(&format!("setTimeout(load, {REFRESH_MILLISECONDS})")));
        // Nothing is loaded from elsewhere: no src= or href= attributes at all, no URLs.
        for outside in [" src=", "href=", "http:", "https:", "//cdn"] {
            assert!(!page.contains(outside), "{outside}");
        }
    }
}
