//! A small SQL builder: conditions with `$n` parameters in the order they
//! are added, so search endpoints never paste input into SQL.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;

#[derive(Debug, Clone)]
pub enum Arg {
    S(String),
    F(f64),
    I(i64),
}

#[derive(Default)]
pub struct Sql {
    pub conditions: Vec<String>,
    pub args: Vec<Arg>,
}

impl Sql {
    /// The next parameter's placeholder, for `arg`.
    pub fn p(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds a condition made with the placeholder of `arg`: `f` gets `$n`.
    pub fn and(&mut self, arg: Arg, f: impl FnOnce(&str) -> String) {
        let p = self.p(arg);
        self.conditions.push(f(&p));
    }

    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    pub fn bind<'q>(&self, sql: &'q str) -> Query<'q, Any, AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for a in &self.args {
            q = match a {
                Arg::S(s) => q.bind(s.clone()),
                Arg::F(f) => q.bind(*f),
                Arg::I(i) => q.bind(*i),
            };
        }
        q
    }

    pub async fn fetch(
        &self,
        store: &crate::store::Store,
        sql: &str,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        self.bind(sql).fetch_all(&store.pool).await
    }
}

/// An opaque page cursor: the sort key of the last row, hex-encoded.
pub fn cursor(parts: &[String]) -> String {
    parts
        .join("\u{1f}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The parts of a cursor made by [`cursor`], or None if it is not one.
pub fn uncursor(c: &str, n: usize) -> Option<Vec<String>> {
    if !c.len().is_multiple_of(2) || c.len() > 4096 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(c.get(i..i + 2)?, 16).ok())
        .collect();
    let s = String::from_utf8(bytes?).ok()?;
    let parts: Vec<String> = s.split('\u{1f}').map(String::from).collect();
    (parts.len() == n).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = cursor(&["1.5".into(), "0751".into(), "s'; DROP".into()]);
        assert_eq!(uncursor(&c, 3).unwrap(), vec!["1.5", "0751", "s'; DROP"]);
        assert!(uncursor(&c, 2).is_none());
        assert!(uncursor("zz", 1).is_none());
        assert!(uncursor("abc", 1).is_none());
        assert!(uncursor("ffff", 1).is_none());
    }
}
