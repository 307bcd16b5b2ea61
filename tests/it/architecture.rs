//! The architecture: data flows one way, and no module refers to one above it.

/// The layers, bottom first. A module may use its own layer's module and those below.
const LAYERS: &[&[&str]] = &[
    &["stats", "field", "hash"],
    &["engine", "theory"],
    &["calendar", "index"],
    &["scenario"],
    &["model"],
    &["experiment"],
    &["report"],
    &["commands"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The modules a source line refers to (`crate::x` in the library, `motcua::x` in the binary).
fn uses(line: &str, prefix: &str) -> Vec<String> {
    line.split(prefix)
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let mut files = Vec::new();
    sources(std::path::Path::new("src"), &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix("src").unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let (module, prefix) = match module.as_str() {
            "lib" => continue,
            "main" | "cli" => ("cli".to_string(), "motcua::"),
            m => (m.to_string(), "crate::"),
        };
        let own = layer(&module).unwrap_or_else(|| {
            panic!(
                "{}: module `{module}` has no layer; add it to LAYERS",
                f.display()
            )
        });
        for (n, line) in std::fs::read_to_string(f).unwrap().lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for used in uses(line, prefix) {
                let Some(l) = layer(&used) else { continue };
                if l > own {
                    bad.push(format!(
                        "{}:{}: `{module}` uses `{used}`, a layer above it",
                        f.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
