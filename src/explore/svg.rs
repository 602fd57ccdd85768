//! A schedule drawn as an SVG timeline: one lane per thread, one box per step, top to bottom
//! in the order the steps happened (the notes' table, drawn), the lost updates marked.

use std::fmt::Write as _;

use super::report::Schedule;

/// Width of one character of the 12 px monospace font, in pixels (a little generous).
const CHAR_W: usize = 8;
const BOX_H: usize = 26;
/// Between two boxes, across and down.
const GAP: usize = 8;
/// Above the first box: the title and the lanes' names.
const TOP: usize = 56;
/// Left of the first lane: the step numbers.
const LEFT: usize = 40;

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

    /// The schedule as an SVG timeline, read top to bottom like the notes' table: one lane
    /// (a column) per thread that took a step (`<g class="lane">`), one box per step in the
    /// order they happened (`<g class="step">`, numbered as in the table) with the operation and
    /// the value read or written, a write that lost an update drawn red (`class="step lost"`)
    /// with a dashed arrow from the write it overwrote, what each thread of a deadlock waits for
    /// (`class="blocked"`, dashed), and the outcome at the bottom.
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
        let lane_of = |t: usize| lanes.iter().position(|&l| l == t);
        // What each thread of a deadlock waits for: "t1 waits for lock b (held by t2)".
        let blocked: Vec<(usize, &str)> = self
            .outcome
            .strip_prefix("deadlock: ")
            .map(|rest| {
                rest.split("; ")
                    .filter_map(|part| {
                        lanes.iter().enumerate().find_map(|(lane, &t)| {
                            let name = &self.threads[t];
                            part.strip_prefix(name.as_str())
                                .and_then(|p| p.strip_prefix(' '))
                                .map(|what| (lane, what))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text_w = self
            .rows
            .iter()
            .map(|r| r.text.as_str())
            .chain(blocked.iter().map(|b| b.1))
            .chain(lanes.iter().map(|&t| self.threads[t].as_str()))
            .map(|t| t.chars().count())
            .max()
            .unwrap_or(0)
            .max(8);
        let box_w = text_w * CHAR_W + 16;
        let x_of = |lane: usize| LEFT + lane * (box_w + GAP);
        let y_of = |i: usize| TOP + i * (BOX_H + GAP);
        let title = if self.key.is_empty() {
            "one schedule".to_string()
        } else {
            format!("schedule {:?}", self.key)
        };
        let rows_drawn = self.rows.len() + usize::from(!blocked.is_empty());
        let footer = format!(
            "outcome: {}{}",
            self.outcome,
            match self.lost_updates() {
                0 => String::new(),
                1 => " (red: the write that lost an update)".to_string(),
                n => format!(" (red: the {n} writes that lost an update)"),
            }
        );
        let width = (x_of(lanes.len()) + 10)
            .max(footer.chars().count() * CHAR_W + 20)
            .max(title.len() * CHAR_W + 20);
        let height = y_of(rows_drawn) + 30;
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
            "<text class=\"title\" x=\"10\" y=\"18\" font-weight=\"bold\">{}</text>",
            escape(&title)
        );
        let _ = writeln!(
            s,
            "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" \
             orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#c00\"/></marker></defs>"
        );
        for (lane, &t) in lanes.iter().enumerate() {
            let x = x_of(lane);
            let mid = x + box_w / 2;
            let _ = writeln!(
                s,
                "<g class=\"lane\" data-thread=\"{name}\">\
                 <line x1=\"{mid}\" y1=\"{top}\" x2=\"{mid}\" y2=\"{end}\" stroke=\"#bbb\"/>\
                 <text x=\"{mid}\" y=\"{ty}\" text-anchor=\"middle\" font-weight=\"bold\">{name}</text></g>",
                name = escape(&self.threads[t]),
                top = TOP - 4,
                end = y_of(rows_drawn),
                ty = TOP - 10,
            );
        }
        for (i, row) in self.rows.iter().enumerate() {
            let (x, y) = (x_of(lane_of(row.thread).unwrap_or(0)), y_of(i));
            let (class, fill, stroke) = match row.lost {
                Some(_) => ("step lost", "#fdd", "#c00"),
                None => ("step", "#eef4ff", "#468"),
            };
            let _ = writeln!(
                s,
                "<g class=\"{class}\" data-step=\"{n}\" data-thread=\"{name}\">\
                 <text x=\"{nx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#666\">{n}</text>\
                 <rect x=\"{x}\" y=\"{y}\" width=\"{box_w}\" height=\"{BOX_H}\" rx=\"4\" \
                 fill=\"{fill}\" stroke=\"{stroke}\"/>\
                 <text x=\"{tx}\" y=\"{ty}\">{text}</text></g>",
                n = i + 1,
                name = escape(&self.threads[row.thread]),
                nx = LEFT - 8,
                tx = x + 8,
                ty = y + BOX_H / 2 + 4,
                text = escape(&row.text),
            );
        }
        for (lane, what) in &blocked {
            let (x, y) = (x_of(*lane), y_of(self.rows.len()));
            let _ = writeln!(
                s,
                "<g class=\"blocked\"><rect x=\"{x}\" y=\"{y}\" width=\"{box_w}\" height=\"{BOX_H}\" \
                 rx=\"4\" fill=\"#fff8e0\" stroke=\"#a60\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" fill=\"#a60\">{text}</text></g>",
                tx = x + 8,
                ty = y + BOX_H / 2 + 4,
                text = escape(what),
            );
        }
        for (i, row) in self.rows.iter().enumerate() {
            let Some((mark, from)) = &row.lost else {
                continue;
            };
            let lane_from = lane_of(self.rows[*from].thread).unwrap_or(0);
            let lane_to = lane_of(row.thread).unwrap_or(0);
            // From the overwritten write's box to the lost write's, side to side.
            let (x1, x2) = if lane_from < lane_to {
                (x_of(lane_from) + box_w, x_of(lane_to))
            } else {
                (x_of(lane_from), x_of(lane_to) + box_w)
            };
            let (y1, y2) = (y_of(*from) + BOX_H / 2, y_of(i) + BOX_H / 2);
            let _ = writeln!(
                s,
                "<g class=\"overwrite\"><line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" \
                 stroke=\"#c00\" stroke-dasharray=\"4 3\" marker-end=\"url(#arrow)\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" fill=\"#c00\" font-size=\"11\">lost update</text>\
                 <title>{}</title></g>",
                escape(mark),
                tx = (x1 + x2) / 2 - 36,
                ty = (y1 + y2) / 2 - 4,
            );
        }
        let _ = writeln!(
            s,
            "<text class=\"outcome\" x=\"10\" y=\"{}\">{}</text>",
            height - 10,
            escape(&footer)
        );
        s.push_str("</svg>\n");
        s
    }
}
