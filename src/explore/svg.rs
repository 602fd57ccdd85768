//! A schedule drawn as an SVG timeline: one lane per thread, one box per step, left to right
//! in the order the steps happened, the lost updates marked.

use std::fmt::Write as _;

use super::report::Schedule;

/// Width of one character of the 12 px monospace font, in pixels (a little generous).
const CHAR_W: usize = 8;
const BOX_H: usize = 44;
const LANE_GAP: usize = 26;
const GAP: usize = 8;
const TOP: usize = 44;

/// `text` with the five XML specials escaped, for element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl Schedule {
    /// How many steps the schedule took (the rows of [`table`](Schedule::table), the boxes of
    /// [`svg`](Schedule::svg)).
    ///
    /// ```
    /// use synclab::explore::{self, Shared};
    /// let report = explore::run(|| {
    ///     let x = Shared::new("x", 0);
    ///     x.store(x.load() + 1); // two steps
    /// })
    /// .unwrap();
    /// assert_eq!(report.find(|_| true).unwrap().steps(), 2);
    /// ```
    pub fn steps(&self) -> usize {
        self.rows.len()
    }

    /// The schedule as an SVG timeline: one lane per thread that took a step (`<g
    /// class="lane">`), one box per step (`<g class="step">`, numbered as in the table) with
    /// the operation and the value read or written, a write that lost an update drawn red
    /// (`class="step lost"`) with a dashed arrow from the write it overwrote, and the outcome
    /// at the bottom. The picture of [`table`](Schedule::table), for a book or a browser.
    ///
    /// ```
    /// use synclab::explore::{self, Shared};
    /// let report = explore::run(|| {
    ///     let x = Shared::new("x", 0);
    ///     let x1 = x.clone();
    ///     let t1 = explore::spawn("t1", move || x1.store(x1.load() + 1));
    ///     x.store(x.load() + 1);
    ///     t1.join();
    ///     x.peek()
    /// })
    /// .unwrap();
    /// let lost = report.find(|o| o.returned() == Some(&1)).unwrap();
    /// let svg = lost.svg();
    /// assert!(svg.starts_with("<svg"));
    /// assert_eq!(svg.matches("<g class=\"lane\"").count(), 2); // main and t1
    /// assert_eq!(svg.matches("<g class=\"step").count(), lost.steps());
    /// assert_eq!(svg.matches("<g class=\"step lost\"").count(), lost.lost_updates());
    /// ```
    pub fn svg(&self) -> String {
        let lanes: Vec<usize> = (0..self.threads.len())
            .filter(|&t| self.rows.iter().any(|r| r.thread == t))
            .collect();
        let label_w = lanes
            .iter()
            .map(|&t| self.threads[t].chars().count())
            .max()
            .unwrap_or(0)
            * CHAR_W
            + 20;
        let box_w = self
            .rows
            .iter()
            .map(|r| r.text.chars().count())
            .max()
            .unwrap_or(0)
            .max(8)
            * CHAR_W
            + 16;
        let x_of = |i: usize| label_w + i * (box_w + GAP);
        let lane_of = |t: usize| lanes.iter().position(|&l| l == t).unwrap_or(0);
        let y_of = |lane: usize| TOP + lane * (BOX_H + LANE_GAP);
        let title = if self.key.is_empty() {
            "one schedule".to_string()
        } else {
            format!("schedule {:?}", self.key)
        };
        let width = (x_of(self.rows.len()) + 10).max((title.len() + self.outcome.len()) * CHAR_W);
        let height = y_of(lanes.len()) + 30;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"12\">"
        );
        let _ = writeln!(
            s,
            "<title>{}</title>",
            escape(&format!("{title}: {}", self.outcome))
        );
        let _ = writeln!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>"
        );
        let _ = writeln!(
            s,
            "<text class=\"title\" x=\"10\" y=\"20\" font-weight=\"bold\">{}</text>",
            escape(&title)
        );
        let _ = writeln!(
            s,
            "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" \
             orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#c00\"/></marker></defs>"
        );
        for (lane, &t) in lanes.iter().enumerate() {
            let y = y_of(lane);
            let mid = y + BOX_H / 2;
            let _ = writeln!(
                s,
                "<g class=\"lane\" data-thread=\"{name}\">\
                 <line x1=\"{label_w}\" y1=\"{mid}\" x2=\"{end}\" y2=\"{mid}\" stroke=\"#bbb\"/>\
                 <text x=\"10\" y=\"{ty}\" font-weight=\"bold\">{name}</text></g>",
                name = escape(&self.threads[t]),
                end = x_of(self.rows.len()),
                ty = mid + 4,
            );
        }
        for (i, row) in self.rows.iter().enumerate() {
            let (x, y) = (x_of(i), y_of(lane_of(row.thread)));
            let (class, fill, stroke) = match row.lost {
                Some(_) => ("step lost", "#fdd", "#c00"),
                None => ("step", "#eef4ff", "#468"),
            };
            let _ = writeln!(
                s,
                "<g class=\"{class}\" data-step=\"{n}\" data-thread=\"{name}\">\
                 <rect x=\"{x}\" y=\"{y}\" width=\"{box_w}\" height=\"{BOX_H}\" rx=\"4\" \
                 fill=\"{fill}\" stroke=\"{stroke}\"/>\
                 <text x=\"{tx}\" y=\"{y1}\" fill=\"#666\" font-size=\"10\">{n}</text>\
                 <text x=\"{tx}\" y=\"{y2}\">{text}</text></g>",
                n = i + 1,
                name = escape(&self.threads[row.thread]),
                tx = x + 6,
                y1 = y + 14,
                y2 = y + 32,
                text = escape(&row.text),
            );
        }
        for (i, row) in self.rows.iter().enumerate() {
            let Some((mark, from)) = &row.lost else {
                continue;
            };
            let (x1, y1) = (
                x_of(*from) + box_w / 2,
                y_of(lane_of(self.rows[*from].thread)),
            );
            let (x2, y2) = (x_of(i) + box_w / 2, y_of(lane_of(row.thread)));
            // From the overwritten write's box edge to the lost write's, whichever lane is above.
            let (y1, y2) = if y1 < y2 {
                (y1 + BOX_H, y2)
            } else if y1 > y2 {
                (y1, y2 + BOX_H)
            } else {
                (y1, y2)
            };
            let _ = writeln!(
                s,
                "<g class=\"overwrite\"><line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" \
                 stroke=\"#c00\" stroke-dasharray=\"4 3\" marker-end=\"url(#arrow)\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" fill=\"#c00\" font-size=\"11\">lost update</text>\
                 <title>{}</title></g>",
                escape(mark),
                tx = x_of(i) + 6,
                ty = y_of(lane_of(row.thread)) + BOX_H + 14,
            );
        }
        let _ = writeln!(
            s,
            "<text class=\"outcome\" x=\"10\" y=\"{}\">outcome: {}{}</text>",
            height - 10,
            escape(&self.outcome),
            match self.lost_updates() {
                0 => String::new(),
                1 => " (red: the write that lost an update)".to_string(),
                n => format!(" (red: the {n} writes that lost an update)"),
            }
        );
        s.push_str("</svg>\n");
        s
    }
}
