//! A hand-written SVG chart of throughput (packets/s) against worker
//! count: axes with ticks and labels, the median of each worker count as a
//! point joined by a line and labelled with its value, and the range over
//! the runs as a whisker. Apart runs (`apart`), when measured, are drawn
//! as open points on a dashed line from the one-worker median: the most
//! the machine gave that many workers at the time.

use crate::stats::si;
use std::fmt::Write;

/// One worker count's measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub workers: usize,
    /// Median packets/s.
    pub pps: f64,
    /// Slowest and fastest run.
    pub low: f64,
    pub high: f64,
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 70.0;

/// Escapes text for XML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A round step for about five ticks up to `max`.
pub fn tick_step(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The finite points, by worker count.
fn usable(points: &[Point]) -> Vec<Point> {
    let mut pts: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.pps.is_finite() && p.low.is_finite() && p.high.is_finite())
        .collect();
    pts.sort_by_key(|p| p.workers);
    pts
}

/// The chart; `title` names the input, `apart` holds the apart runs (may
/// be empty).
pub fn throughput_svg(title: &str, points: &[Point], apart: &[Point]) -> String {
    let pts = usable(points);
    let apart: Vec<Point> = usable(apart)
        .into_iter()
        .filter(|a| pts.iter().any(|p| p.workers == a.workers))
        .collect();
    let ymax_data = pts
        .iter()
        .chain(&apart)
        .map(|p| p.high.max(p.pps))
        .fold(0.0, f64::max);
    let step = tick_step(ymax_data * 1.1);
    let ymax = (ymax_data * 1.1 / step).ceil().max(1.0) * step;
    let (wmin, wmax) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (a.workers as f64, b.workers as f64),
        _ => (1.0, 1.0),
    };
    let (x0, x1) = (wmin - 0.5, wmax + 0.5);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |w: f64| LEFT + (w - x0) / (x1 - x0) * plot_w;
    let y = |v: f64| TOP + plot_h - v / ymax * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(
        s,
        r#"<title>Throughput against worker count</title>
<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#
    );
    let mut t = title.to_string();
    if t.chars().count() > 90 {
        t = t.chars().take(87).collect::<String>() + "...";
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        W / 2.0,
        esc(&t)
    );
    // Horizontal grid and y ticks.
    let mut v = 0.0;
    while v <= ymax * (1.0 + 1e-9) {
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#dddddd"/>
<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 8.0,
            yy + 4.0,
            esc(&si(v))
        );
        v += step;
    }
    // Axes.
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/>
<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/>"#,
        TOP + plot_h,
        TOP + plot_h,
        W - RIGHT,
        TOP + plot_h
    );
    for p in &pts {
        let xx = x(p.workers as f64);
        let _ = writeln!(
            s,
            r#"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="black"/>
<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_h,
            TOP + plot_h + 6.0,
            TOP + plot_h + 22.0,
            p.workers
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">workers</text>
<text x="20" y="{:.1}" text-anchor="middle" transform="rotate(-90 20 {:.1})">packets per second (median, range over runs)</text>"#,
        LEFT + plot_w / 2.0,
        H - 20.0,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    ceiling(&mut s, &pts, &apart, &x, &y);
    // The line through the medians.
    if pts.len() > 1 {
        let path: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.workers as f64), y(p.pps)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1f6fb4" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    for p in &pts {
        let xx = x(p.workers as f64);
        let (lo, hi) = (y(p.low), y(p.high));
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{lo:.1}" x2="{xx:.1}" y2="{hi:.1}" stroke="#555555"/>
<line x1="{:.1}" y1="{lo:.1}" x2="{:.1}" y2="{lo:.1}" stroke="#555555"/>
<line x1="{:.1}" y1="{hi:.1}" x2="{:.1}" y2="{hi:.1}" stroke="#555555"/>
<circle cx="{xx:.1}" cy="{:.1}" r="5" fill="#1f6fb4"><title>{} workers: {:.0} packets/s (runs {:.0} .. {:.0})</title></circle>
<text x="{xx:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{} packets/s</text>"##,
            xx - 6.0,
            xx + 6.0,
            xx - 6.0,
            xx + 6.0,
            y(p.pps),
            p.workers,
            p.pps,
            p.low,
            p.high,
            hi - 10.0,
            esc(&si(p.pps)),
        );
    }
    if pts.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">no measurements</text>"#,
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The apart runs: a dashed line from the one-worker median through the
/// apart medians, open points, and a legend.
fn ceiling(
    s: &mut String,
    pts: &[Point],
    apart: &[Point],
    x: &dyn Fn(f64) -> f64,
    y: &dyn Fn(f64) -> f64,
) {
    if apart.is_empty() {
        return;
    }
    let start = pts.iter().find(|p| p.workers == 1);
    let path: Vec<String> = start
        .iter()
        .copied()
        .chain(apart)
        .map(|p| format!("{:.1},{:.1}", x(p.workers as f64), y(p.pps)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#d9822b" stroke-width="2" stroke-dasharray="6 4"/>"##,
        path.join(" ")
    );
    for p in apart {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="6" fill="white" stroke="#d9822b" stroke-width="2"><title>{} apart: {:.0} packets/s (runs {:.0} .. {:.0})</title></circle>"##,
            x(p.workers as f64),
            y(p.pps),
            p.workers,
            p.pps,
            p.low,
            p.high,
        );
    }
    let lx = W - RIGHT - 250.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="#1f6fb4" stroke-width="2"/>
<text x="{:.1}" y="{:.1}">the sensor's workers</text>
<line x1="{lx}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#d9822b" stroke-width="2" stroke-dasharray="6 4"/>
<text x="{:.1}" y="{:.1}">apart: pipelines sharing nothing</text>"##,
        lx + 24.0,
        lx + 30.0,
        TOP - 12.0 + 4.0,
        TOP + 6.0,
        lx + 24.0,
        TOP + 6.0,
        lx + 30.0,
        TOP + 10.0,
        ly = TOP - 12.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that every element is closed in order and that the document
    /// is one `<svg>` element.
    fn well_formed(doc: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = doc.trim();
        if !rest.starts_with("<svg") {
            return Err("does not start with <svg".into());
        }
        let mut roots = 0;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            if text.contains('>') || (text.contains('&') && !text.contains(';')) {
                return Err(format!("stray markup in text {text:?}"));
            }
            let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
            let tag = &rest[open + 1..close];
            if let Some(name) = tag.strip_prefix('/') {
                match stack.pop() {
                    Some(top) if top == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else {
                if stack.is_empty() {
                    roots += 1;
                }
                if !tag.matches('"').count().is_multiple_of(2) {
                    return Err(format!("unbalanced quotes in <{tag}>"));
                }
                let name: String = tag.chars().take_while(|c| c.is_alphanumeric()).collect();
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[close + 1..];
        }
        if !stack.is_empty() || roots != 1 || !rest.trim().is_empty() {
            return Err(format!("unclosed {stack:?}, {roots} root elements"));
        }
        Ok(())
    }

    #[test]
    fn chart_is_well_formed_and_shows_the_values() {
        let points = [
            Point {
                workers: 2,
                pps: 2_200_000.0,
                low: 1_500_000.0,
                high: 2_510_000.0,
            },
            Point {
                workers: 1,
                pps: 2_230_000.0,
                low: 1_520_000.0,
                high: 2_470_000.0,
            },
        ];
        let svg = throughput_svg("municipal <mix> & more", &points, &[]);
        assert!(svg.starts_with("<svg"));
        well_formed(&svg).unwrap();
        assert!(svg.contains("2.23 M packets/s"), "{svg}");
        assert!(svg.contains("2.20 M packets/s"));
        assert!(svg.contains("municipal &lt;mix&gt; &amp; more"));
        assert!(svg.contains(">workers<") && svg.contains("packets per second"));
        assert!(svg.contains("<polyline"));
        // The y axis reaches past the fastest run.
        assert!(svg.contains(">3.00 M<"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    /// Apart runs show as open points on a dashed line from one worker,
    /// with a legend; the axis makes room for them.
    #[test]
    fn apart_runs_show_as_the_ceiling() {
        let one = Point {
            workers: 1,
            pps: 1_000_000.0,
            low: 900_000.0,
            high: 1_100_000.0,
        };
        let two = Point {
            workers: 2,
            pps: 1_700_000.0,
            ..one
        };
        let apart = Point {
            workers: 2,
            pps: 4_000_000.0,
            low: 3_900_000.0,
            high: 4_100_000.0,
        };
        let svg = throughput_svg("x", &[one, two], &[apart]);
        well_formed(&svg).unwrap();
        assert_eq!(svg.matches("stroke-dasharray").count(), 2, "{svg}");
        assert!(svg.contains("2 apart: 4000000 packets/s"), "{svg}");
        assert!(svg.contains("apart: pipelines sharing nothing"));
        assert!(
            svg.contains(">5.00 M<"),
            "the y axis reaches past the apart run: {svg}"
        );
        // An apart run without its worker count is left out.
        let lone = Point {
            workers: 3,
            ..apart
        };
        let svg = throughput_svg("x", &[one, two], &[lone]);
        assert!(!svg.contains("stroke-dasharray") && !svg.contains("sharing nothing"));
    }

    #[test]
    fn the_checker_catches_broken_documents() {
        assert!(well_formed("<svg><g></svg></g>").is_err());
        assert!(well_formed("<svg><text>a > b</text></svg>").is_err());
        assert!(well_formed("<svg a=\"1></svg>").is_err());
        assert!(well_formed("<svg></svg><svg></svg>").is_err());
        assert!(well_formed(&throughput_svg("empty", &[], &[])).is_ok());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(2_761_000.0), 1_000_000.0);
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(0.0), 1.0);
        assert_eq!(tick_step(12_000.0), 2_500.0);
    }
}
