//! Field paths into a scenario as written: positional (`province[0].tier[2].staff.clerks`),
//! named (`province[seed-province].tier[commune].staff.clerks`,
//! `procedure[c-birth].deadline_days`) or the tier shorthand
//! (`commune.staff.clerks`: that tier in every province).
//!
//! A selector in brackets is an index, `*` (every entry), or a name matched
//! against the entry's label: the first of its `id`, `name`, `tier` and
//! `kind` (a procedure's id, a province's or unit's name, a tier's tier, a
//! reform's kind; several reforms of one kind are all selected). A path that names
//! something missing is an error listing the valid names or fields at that
//! level, so a suggestion never crosses to another tier, unit or province.

use toml::Value;

/// Which entries of an array a segment selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The entry at this position.
    Index(usize),
    /// The entries whose label (see [`label`]) is this.
    Name(String),
    /// Every entry.
    All,
}

/// One dotted part of a path: a key and its selectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The table key.
    pub key: String,
    /// Selectors applied in order to the value under `key`.
    pub selectors: Vec<Selector>,
}

/// The tier names the shorthand accepts as a path's first part.
pub const TIERS: [&str; 3] = ["province", "district", "commune"];

/// The keys an entry's label is read from: the first one it has.
const LABEL_KEYS: [&str; 4] = ["id", "name", "tier", "kind"];

/// Splits `path` into segments (dots inside brackets belong to the name).
pub fn parse(path: &str) -> Result<Vec<Segment>, String> {
    let path = path.trim();
    if path.is_empty() {
        return Err("the path is empty; write e.g. `commune.staff.clerks`".into());
    }
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth == 0 => return Err(format!("an unmatched `]` in `{path}`")),
            ']' => depth -= 1,
            '.' if depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("an unclosed `[` in `{path}`"));
    }
    parts.push(&path[start..]);
    parts
        .into_iter()
        .map(|part| {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() {
                return Err(format!("an empty field name in `{path}`"));
            }
            let mut selectors = Vec::new();
            while !rest.is_empty() {
                let close = rest
                    .find(']')
                    .filter(|_| rest.starts_with('['))
                    .ok_or_else(|| format!("malformed selector in `{part}`"))?;
                let inner = rest[1..close].trim();
                selectors.push(if inner == "*" {
                    Selector::All
                } else if let Ok(i) = inner.parse::<usize>() {
                    Selector::Index(i)
                } else if inner.is_empty() {
                    return Err(format!("an empty selector `[]` in `{part}`"));
                } else {
                    Selector::Name(inner.to_string())
                });
                rest = &rest[close + 1..];
            }
            Ok(Segment {
                key: key.to_string(),
                selectors,
            })
        })
        .collect()
}

/// Expands the tier shorthand: a first part that is a bare tier name
/// (`commune.staff.clerks`) means that tier of every province.
pub fn expand_shorthand(mut segs: Vec<Segment>) -> Vec<Segment> {
    if let Some(first) = segs.first()
        && first.selectors.is_empty()
        && TIERS.contains(&first.key.as_str())
    {
        let tier = first.key.clone();
        segs.splice(
            0..1,
            [
                Segment {
                    key: "province".into(),
                    selectors: vec![Selector::All],
                },
                Segment {
                    key: "tier".into(),
                    selectors: vec![Selector::Name(tier)],
                },
            ],
        );
    }
    segs
}

/// The label of an array entry: its `id`, `name`, `tier` or `kind`, the
/// first it has (a procedure's id, a province's or unit's name, a tier's
/// tier, a reform's kind).
pub fn label(v: &Value) -> Option<&str> {
    let t = v.as_table()?;
    LABEL_KEYS
        .iter()
        .find_map(|k| t.get(*k).and_then(Value::as_str))
}

fn show(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// The nearest of `names` to `want`, as a hint (only names of this level).
fn nearest<'a>(want: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    crate::field::closest(want, names)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The positions of `arr` that `sel` selects, with the label each is shown by.
pub fn select(arr: &[Value], sel: &Selector, at: &str) -> Result<Vec<(usize, String)>, String> {
    let shown = |i: usize| {
        label(&arr[i])
            .map(str::to_string)
            .unwrap_or_else(|| i.to_string())
    };
    match sel {
        Selector::All => Ok((0..arr.len()).map(|i| (i, shown(i))).collect()),
        Selector::Index(i) if *i < arr.len() => Ok(vec![(*i, shown(*i))]),
        Selector::Index(i) => Err(format!(
            "there is no `{at}[{i}]`: it has {} entries (0 to {})",
            arr.len(),
            arr.len().saturating_sub(1)
        )),
        Selector::Name(n) => {
            let hits: Vec<usize> = (0..arr.len())
                .filter(|&i| label(&arr[i]) == Some(n.as_str()))
                .collect();
            if hits.is_empty() {
                let names: Vec<String> = arr.iter().filter_map(label).map(String::from).collect();
                let hint = nearest(n, names.iter().map(String::as_str));
                let extra = if names.len() < arr.len() {
                    " (entries without a name are addressed by index)"
                } else {
                    ""
                };
                return Err(format!(
                    "there is no `{n}` in `{at}`; the names there are: {}{extra}{hint}",
                    list(&names)
                ));
            }
            Ok(hits.into_iter().map(|i| (i, shown(i))).collect())
        }
    }
}

/// Applies `f` to every value `segs` reaches from `v` (shown as `at`);
/// returns how many it reached.
pub fn apply(
    v: &mut Value,
    segs: &[Segment],
    at: &str,
    f: &mut dyn FnMut(&mut Value, &str) -> Result<(), String>,
) -> Result<usize, String> {
    let Some((seg, rest)) = segs.split_first() else {
        f(v, at)?;
        return Ok(1);
    };
    let Some(table) = v.as_table_mut() else {
        return Err(format!(
            "`{at}` is a {}, not a table with field `{}`",
            v.type_str(),
            seg.key
        ));
    };
    let here = show(at, &seg.key);
    if !table.contains_key(&seg.key) {
        let keys: Vec<String> = table.keys().cloned().collect();
        let hint = nearest(&seg.key, keys.iter().map(String::as_str));
        let place = if at.is_empty() {
            "the file".to_string()
        } else {
            format!("`{at}`")
        };
        return Err(format!(
            "no field `{}` in {place}; the fields there are: {}{hint}",
            seg.key,
            list(&keys)
        ));
    }
    let child = table.get_mut(&seg.key).expect("checked above");
    apply_selected(child, &seg.selectors, rest, here, f)
}

fn apply_selected(
    v: &mut Value,
    selectors: &[Selector],
    rest: &[Segment],
    at: String,
    f: &mut dyn FnMut(&mut Value, &str) -> Result<(), String>,
) -> Result<usize, String> {
    let Some((sel, more)) = selectors.split_first() else {
        return apply(v, rest, &at, f);
    };
    let Some(arr) = v.as_array_mut() else {
        return Err(format!(
            "`{at}` is a {}, not a list to select from",
            v.type_str()
        ));
    };
    let picked = select(arr, sel, &at)?;
    let mut n = 0;
    for (i, shown) in picked {
        n += apply_selected(&mut arr[i], more, rest, format!("{at}[{shown}]"), f)?;
    }
    Ok(n)
}

/// Replaces a numeric leaf (shown as `at`) by `op` of its value, through
/// [`set_number`].
pub fn edit_number(v: &mut Value, at: &str, op: &dyn Fn(f64) -> f64) -> Result<(), String> {
    let cur = match v {
        Value::Integer(n) => *n as f64,
        Value::Float(x) => *x,
        other => return Err(format!("`{at}` is a {}, not a number", other.type_str())),
    };
    set_number(v, op(cur)).map_err(|why| format!("`{at}` {why}"))
}

/// Sets a numeric leaf: an integer stays an integer when `x` is integral.
pub fn set_number(v: &mut Value, x: f64) -> Result<(), String> {
    match v {
        Value::Integer(_) if x.fract() == 0.0 && x.abs() < 9.0e15 => *v = Value::Integer(x as i64),
        Value::Integer(_) | Value::Float(_) => *v = Value::Float(x),
        other => return Err(format!("is a {}, not a number", other.type_str())),
    }
    Ok(())
}

/// Every numeric leaf under `v`, with entries of lists shown by their label
/// where they have one (`province[seed-province].tier[commune].staff.clerks`).
pub fn numeric_leaves(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Integer(_) | Value::Float(_) => out.push(prefix),
        Value::Table(t) => {
            for (k, v) in t {
                numeric_leaves(v, show(&prefix, k), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let unique =
                    label(v).filter(|l| a.iter().filter(|w| label(w) == Some(l)).count() == 1);
                let shown = unique.map(str::to_string).unwrap_or_else(|| i.to_string());
                numeric_leaves(v, format!("{prefix}[{shown}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        toml::from_str(
            r#"
            [[province]]
            name = "a"
            [[province.tier]]
            tier = "province"
            staff = { clerks = 2, specialists = 3, leaders = 1 }
            [[province.tier]]
            tier = "commune"
            units = 4
            staff = { clerks = 1, specialists = 1, leaders = 1 }
            [[province]]
            name = "b.c"
            [[province.tier]]
            tier = "commune"
            units = 2
            staff = { clerks = 5, specialists = 1, leaders = 1 }
            "#,
        )
        .unwrap()
    }

    fn set(v: &mut Value, path: &str, x: f64) -> Result<usize, String> {
        let segs = expand_shorthand(parse(path)?);
        apply(v, &segs, "", &mut |leaf, _| set_number(leaf, x))
    }

    #[test]
    fn a_named_path_sets_the_same_field_as_its_positional_twin() {
        let (mut a, mut b) = (doc(), doc());
        set(&mut a, "province[0].tier[1].staff.clerks", 7.0).unwrap();
        set(&mut b, "province[a].tier[commune].staff.clerks", 7.0).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            b["province"][0]["tier"][1]["staff"]["clerks"].as_integer(),
            Some(7)
        );
    }

    #[test]
    fn the_tier_shorthand_sets_that_tier_in_every_province_and_only_there() {
        let mut v = doc();
        assert_eq!(set(&mut v, "commune.staff.clerks", 9.0), Ok(2));
        assert_eq!(
            v["province"][0]["tier"][1]["staff"]["clerks"].as_integer(),
            Some(9)
        );
        assert_eq!(
            v["province"][1]["tier"][0]["staff"]["clerks"].as_integer(),
            Some(9)
        );
        assert_eq!(
            v["province"][0]["tier"][0]["staff"]["clerks"].as_integer(),
            Some(2)
        );
    }

    #[test]
    fn a_name_with_a_dot_stays_one_name() {
        let mut v = doc();
        assert_eq!(set(&mut v, "province[b.c].tier[commune].units", 3.0), Ok(1));
    }

    #[test]
    fn a_missing_name_lists_the_names_of_its_own_level_only() {
        let mut v = doc();
        let e = set(&mut v, "province[a].tier[communes].staff.clerks", 1.0).unwrap_err();
        assert!(e.contains("the names there are: province, commune"), "{e}");
        assert!(e.contains("did you mean `commune`"), "{e}");
        assert!(!e.contains("district"), "{e}");
        // A district that does not exist is not turned into another tier.
        let e = set(&mut v, "district.staff.clerks", 1.0).unwrap_err();
        assert!(
            e.contains("no `district`") && !e.contains("did you mean"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_field_lists_the_fields_at_that_level() {
        let mut v = doc();
        let e = set(&mut v, "commune.staff.clerk", 1.0).unwrap_err();
        assert!(
            e.contains("fields there are: clerks, leaders, specialists"),
            "{e}"
        );
        assert!(e.contains("did you mean `clerks`"), "{e}");
    }

    #[test]
    fn numeric_leaves_are_listed_by_name() {
        let mut out = Vec::new();
        numeric_leaves(&doc(), String::new(), &mut out);
        assert!(
            out.contains(&"province[a].tier[commune].staff.clerks".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"province[b.c].tier[commune].units".to_string()),
            "{out:?}"
        );
    }
}
