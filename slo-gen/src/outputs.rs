//! The files `generate` produces: every one computed in memory first, then written
//! atomically (temp file + rename), or compared with what is on disk under `--check`.
//! Only files we generated (the marker, or the dashboard tag) are ever replaced or removed.

use crate::dashboards;
use crate::names::{self, MARKER};
use crate::rules::emit::{self, RulesFormat};
use crate::rules::{self, Options};
use rayon::prelude::*;
use slo_spec::Service;
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub text: String,
}

/// Where `generate` writes each kind of file.
#[derive(Clone, Copy, Debug)]
pub struct Dirs<'a> {
    pub rules: &'a Path,
    pub dashboards: &'a Path,
    pub alertmanager: &'a Path,
}

impl<'a> Dirs<'a> {
    pub fn all(&self) -> [&'a Path; 3] {
        [self.rules, self.dashboards, self.alertmanager]
    }

    /// Where orphaned generated files are looked for: every directory a layout writes
    /// (a switch between layouts leaves the other's files orphaned, and they are removed).
    fn scanned(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.all().iter().map(|d| d.to_path_buf()).collect();
        dirs.extend(["local", "global"].map(|set| self.rules.join(set)));
        dirs
    }
}

/// Every file `generate` writes, each handed to `sink` as soon as it is computed: from
/// rayon's threads, in no set order.
pub fn each_output(
    services: &[Service],
    dirs: Dirs,
    format: RulesFormat,
    opts: &Options,
    sink: &(dyn Fn(Output) + Sync),
) {
    // Services compile independently: in parallel.
    services.par_iter().for_each(|svc| {
        let source = Path::new(&svc.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if opts.split {
            let split = rules::service_split(svc, opts);
            for (set, groups) in [("local", split.local), ("global", split.global)] {
                let manifest = format!("{}-{set}", names::operator_rule(&svc.name));
                sink(Output {
                    path: dirs.rules.join(set).join(names::rule_file(&svc.name)),
                    text: emit::rule_file_as(format, &svc.name, &manifest, &source, &groups),
                });
            }
        } else {
            let groups = rules::service_groups(svc, opts);
            sink(Output {
                path: dirs.rules.join(names::rule_file(&svc.name)),
                text: emit::rule_file(format, &svc.name, &source, &groups),
            });
        }
        sink(Output {
            path: dirs.dashboards.join(names::dashboard_file(&svc.name)),
            // About 32 KB of JSON per SLO.
            text: dashboards::grafana::to_text_sized(
                &dashboards::service(svc),
                (svc.slos.len() + 1) * 40 * 1024,
            ),
        });
    });
    sink(Output {
        path: dirs.dashboards.join(names::OVERVIEW_FILE),
        text: dashboards::to_text(&dashboards::overview(services)),
    });
    sink(Output {
        path: dirs.dashboards.join(names::PROVISIONING_FILE),
        text: dashboards::provisioning(),
    });
    sink(Output {
        path: dirs.alertmanager.join(names::INHIBIT_FILE),
        text: crate::alertmanager::inhibit_rules(services),
    });
}

/// Every file `generate` writes, in path order.
pub fn outputs(
    services: &[Service],
    dirs: Dirs,
    format: RulesFormat,
    opts: &Options,
) -> Vec<Output> {
    let out = Mutex::new(Vec::new());
    each_output(services, dirs, format, opts, &|o| lock(&out).push(o));
    let mut out = into_inner(out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// A mutex's value, also after a panic elsewhere (every writer here leaves it whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// [`lock`]'s value, taken out of the mutex.
fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Whether a file is one we generated: YAML with our header, or a dashboard with our tag.
fn is_generated(path: &Path, bytes: &[u8]) -> bool {
    if bytes.starts_with(MARKER.as_bytes()) {
        return true;
    }
    path.extension().is_some_and(|e| e == "json")
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| {
            v["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| t == names::DASHBOARD_TAG))
        })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    Missing(PathBuf),
    Stale(PathBuf),
    /// A generated file no spec produces any more.
    Orphaned(PathBuf),
}

impl Drift {
    pub fn path(&self) -> &Path {
        match self {
            Drift::Missing(p) | Drift::Stale(p) | Drift::Orphaned(p) => p,
        }
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(p) => write!(f, "{}: missing", p.display()),
            Drift::Stale(p) => write!(f, "{}: stale", p.display()),
            Drift::Orphaned(p) => write!(f, "{}: no longer generated by any spec", p.display()),
        }
    }
}

/// How the disk differs from `o`, if it does.
fn compare(o: &Output) -> io::Result<Option<Drift>> {
    match std::fs::read(&o.path) {
        Ok(bytes) if bytes == o.text.as_bytes() => Ok(None),
        Ok(_) => Ok(Some(Drift::Stale(o.path.clone()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Some(Drift::Missing(o.path.clone()))),
        Err(e) => Err(e),
    }
}

/// The generated files in `dir` that no output names: the orphans. Files an output names
/// are never read here (they are compared with it instead).
fn orphans(dir: &Path, named: &HashSet<&Path>) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.is_file() && !named.contains(path.as_path()) {
            let bytes = std::fs::read(&path)?;
            if is_generated(&path, &bytes) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `generate --check`: what differs between the outputs and the disk, each output
/// compared as soon as it is computed and then dropped. Returns how many files the specs
/// produce and the drift, in path order (orphans last).
pub fn check(
    services: &[Service],
    dirs: Dirs,
    format: RulesFormat,
    opts: &Options,
) -> io::Result<(usize, Vec<Drift>)> {
    let seen = Seen::default();
    each_output(services, dirs, format, opts, &|o| {
        seen.add(compare(&o), o.path)
    });
    let scanned = dirs.scanned();
    let scanned: Vec<&Path> = scanned.iter().map(PathBuf::as_path).collect();
    seen.finish(&scanned, |_| Ok(()))
}

/// What comparing or writing the outputs found, gathered from many threads.
#[derive(Default)]
struct Seen {
    found: Mutex<Vec<Drift>>,
    named: Mutex<HashSet<PathBuf>>,
    failed: Mutex<Option<io::Error>>,
}

impl Seen {
    /// One output at `path` handled: the drift found or repaired, if any, or the error.
    fn add(&self, result: io::Result<Option<Drift>>, path: PathBuf) {
        match result {
            Ok(Some(d)) => lock(&self.found).push(d),
            Ok(None) => {}
            Err(e) => {
                lock(&self.failed).get_or_insert(e);
            }
        }
        lock(&self.named).insert(path);
    }

    /// How many files were produced and the drift, in path order, then the orphans in
    /// `dirs`, each passed to `orphan` (which removes it when writing).
    fn finish(
        self,
        dirs: &[&Path],
        orphan: impl Fn(&Path) -> io::Result<()>,
    ) -> io::Result<(usize, Vec<Drift>)> {
        if let Some(e) = into_inner(self.failed) {
            return Err(e);
        }
        let named: HashSet<PathBuf> = into_inner(self.named);
        let mut found: Vec<Drift> = into_inner(self.found);
        found.sort_by(|a, b| a.path().cmp(b.path()));
        let produced = named.len();
        let named: HashSet<&Path> = named.iter().map(PathBuf::as_path).collect();
        for dir in dirs {
            for path in orphans(dir, &named)? {
                orphan(&path)?;
                found.push(Drift::Orphaned(path));
            }
        }
        Ok((produced, found))
    }
}

/// Writes each changed file atomically and removes orphaned generated files. Returns the
/// drift it repaired.
pub fn write(outputs: &[Output], dirs: &[&Path]) -> io::Result<Vec<Drift>> {
    write_from(dirs, |sink| outputs.iter().cloned().for_each(sink)).map(|(_, d)| d)
}

/// `generate`: every output computed and written at once, each written (or found
/// unchanged) as soon as it is computed, so the writes overlap the compiling and no
/// file's text outlives its write. Returns how many files it produced and the drift it
/// repaired, in path order (orphans last).
pub fn generate(
    services: &[Service],
    dirs: Dirs,
    format: RulesFormat,
    opts: &Options,
) -> io::Result<(usize, Vec<Drift>)> {
    let scanned = dirs.scanned();
    let scanned: Vec<&Path> = scanned.iter().map(PathBuf::as_path).collect();
    write_from(&scanned, |sink| {
        each_output(services, dirs, format, opts, sink)
    })
}

/// Writer threads: each write waits on its own fsync, so a few at once overlap the waits;
/// more only contend for the directory's lock (16 spent a fifth of the time spinning on it).
const WRITERS: usize = 4;

/// Runs `produce`, writing every output it hands over on writer threads, then removes the
/// orphans.
fn write_from(
    dirs: &[&Path],
    produce: impl FnOnce(&(dyn Fn(Output) + Sync)),
) -> io::Result<(usize, Vec<Drift>)> {
    let (tx, rx) = mpsc::sync_channel::<Output>(4 * WRITERS);
    let rx = Mutex::new(rx);
    let seen = Seen::default();
    std::thread::scope(|s| {
        for _ in 0..WRITERS {
            s.spawn(|| loop {
                let Ok(o) = lock(&rx).recv() else { break };
                seen.add(repair(&o), o.path);
            });
        }
        produce(&|o| {
            // The writers outlive the producer; a send fails only if all of them panicked.
            let _ = tx.send(o);
        });
        drop(tx);
    });
    seen.finish(dirs, |path| std::fs::remove_file(path))
}

/// Writes `o` unless the disk already holds it: the drift repaired, if any.
fn repair(o: &Output) -> io::Result<Option<Drift>> {
    let found = match compare(o)? {
        None => return Ok(None),
        Some(d) => d,
    };
    write_atomic(&o.path, o.text.as_bytes())?;
    Ok(Some(found))
}

/// Temp file in the same directory, flushed, then renamed over the target: readers see
/// the old file or the new one, never a partial one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
