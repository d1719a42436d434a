//! User stop strings (`stop`): text is released only once it cannot be the start of a stop string, and a
//! match cuts the text before it.

/// Matches stop strings over text arriving in pieces.
#[derive(Clone, Debug, Default)]
pub struct StopStrings {
    stops: Vec<String>,
    /// Text that may still be the start of a stop string.
    held: String,
    matched: bool,
}

impl StopStrings {
    pub fn new(stops: Vec<String>) -> StopStrings {
        StopStrings {
            stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
            held: String::new(),
            matched: false,
        }
    }

    /// Whether a stop string has matched: nothing more is released.
    pub fn matched(&self) -> bool {
        self.matched
    }

    /// Adds `text`; returns what is certain not to be part of a stop string.
    pub fn push(&mut self, text: &str) -> String {
        if self.matched {
            return String::new();
        }
        if self.stops.is_empty() {
            return text.to_string();
        }
        self.held.push_str(text);
        if let Some(at) = self.stops.iter().filter_map(|stop| self.held.find(stop.as_str())).min() {
            self.matched = true;
            let released = self.held[..at].to_string();
            self.held.clear();
            return released;
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        let keep = self
            .stops
            .iter()
            .flat_map(|stop| (1..stop.len()).filter(|&n| stop.is_char_boundary(n)).map(move |n| &stop[..n]))
            .filter(|prefix| self.held.ends_with(prefix))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let split = self.held.len() - keep;
        let released = self.held[..split].to_string();
        self.held.drain(..split);
        released
    }

    /// The end of the text: what was held back is released (it never became a stop string).
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let mut matcher = StopStrings::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out: String = pieces.iter().map(|p| matcher.push(p)).collect();
        out.push_str(&matcher.flush());
        (out, matcher.matched())
    }

    #[test]
    fn cuts_before_a_stop_string_split_over_pieces() {
        assert_eq!(run(&["END"], &["abc E", "N", "D more"]), ("abc ".into(), true));
        assert_eq!(run(&["\n\n", "STOP"], &["one\n", "two\n", "\nthree"]), ("one\ntwo".into(), true));
    }

    #[test]
    fn releases_held_text_that_never_matched() {
        assert_eq!(run(&["END"], &["an E", "ND"]).0, "an ");
        assert_eq!(run(&["END"], &["an E", "nd"]), ("an End".into(), false));
        assert_eq!(run(&["ENDING"], &["the EN"]), ("the EN".into(), false));
        assert_eq!(run(&[], &["x"]), ("x".into(), false));
    }

    #[test]
    fn holds_only_prefixes_on_char_boundaries() {
        assert_eq!(run(&["é!"], &["caf", "é", "!"]), ("caf".into(), true));
        assert_eq!(run(&["é!"], &["café"]), ("café".into(), false));
    }
}
