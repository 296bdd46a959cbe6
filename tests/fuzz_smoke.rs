//! The CI smoke of every fuzz target (issue 17): each target's body, from
//! `fuzz/src/lib.rs`, runs over its seed corpus (built from `../shared/realdata` by
//! `scripts/fuzz-corpus`) and then over mutations of those seeds for a short time.
//!
//! This is not libFuzzer: there is no coverage guidance, so it finds shallow faults
//! only. It keeps the targets compiling against the library, replays every seed on each
//! change, and costs seconds in the normal test build. The real fuzzing, coverage-guided
//! with the address sanitizer, is `scripts/fuzz SECONDS [TARGET...]`.
//!
//! `HFHARVEST_FUZZ_SMOKE_SECS` sets the mutation time per target (default 2).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The seed corpora, built once per test binary into a temporary folder.
fn corpus_root() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new("python3")
            .arg(manifest.join("scripts/fuzz-corpus"))
            .arg(dir.path())
            .output()
            .expect("python3 runs scripts/fuzz-corpus");
        assert!(
            out.status.success(),
            "scripts/fuzz-corpus failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let folder: PathBuf = corpus_root().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("no seed corpus for {target} at {}: {e}", folder.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("a seed reads"))
        .collect()
}

/// xorshift64*: a fixed seed, so a failure reproduces with the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that the parsers treat specially, as libFuzzer's dictionaries would hold.
const TOKENS: &[&[u8]] = &[
    b"1e20",
    b"-5",
    b"NaN",
    b"inf",
    b"18446744073709551615",
    b"-1",
    b"0",
    b"/",
    b"//",
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b";",
    b"=",
    b"@",
    b"\t",
    b"%",
    b"null",
    b"[]",
    b"{}",
    b"<td>",
    b"</tr>",
    b"<a title=\"x on Hugging Face Hub\">",
    b"\xff",
    b"\xe2\x9d\x93",
    b"rel=\"next\"",
    b"t=",
    b"Sun, 06 Nov 1994 08:49:37 GMT",
    b"9999-12-31",
];

/// One mutation of `input`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            4 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let piece = out[start..end].to_vec();
                out.splice(at..at, piece);
            }
            5 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(256)).min(other.len());
                out.truncate(at);
                out.extend_from_slice(&other[start..end]);
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn smoke_time() -> Duration {
    let secs = std::env::var("HFHARVEST_FUZZ_SMOKE_SECS")
        .ok()
        .map(|v| {
            v.parse::<f64>()
                .expect("HFHARVEST_FUZZ_SMOKE_SECS is seconds")
        })
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

/// Runs `body` on `input`; a panic fails the test naming the target and the input.
fn run_one(target: &str, body: fuzz::targets::Target, input: &[u8], what: &str) {
    if std::panic::catch_unwind(|| body(input)).is_err() {
        let kept = std::env::temp_dir().join(format!("hfharvest-fuzz-smoke-{target}"));
        std::fs::write(&kept, input).expect("the crash input is kept");
        panic!(
            "fuzz target {target} panicked on {what}; input kept at {} ({} bytes): {:?}",
            kept.display(),
            input.len(),
            String::from_utf8_lossy(&input[..input.len().min(400)])
        );
    }
}

fn smoke(target: &str) {
    let body = fuzz::targets::ALL
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
        .1;
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "the seed corpus of {target} is empty");
    for (i, seed) in seeds.iter().enumerate() {
        run_one(target, body, seed, &format!("seed {i}"));
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    let deadline = Instant::now() + smoke_time();
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let input = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let mutated = mutate(&mut rng, input, other);
        run_one(target, body, &mutated, &format!("mutation {runs}"));
        runs += 1;
    }
    eprintln!("{target}: {} seeds, {runs} mutations", seeds.len());
}

#[test]
fn every_fuzz_target_has_a_smoke_test() {
    let names: Vec<&str> = fuzz::targets::ALL.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, SMOKED,
        "tests/fuzz_smoke.rs smokes every target, in order"
    );
    let manifest = include_str!("../fuzz/Cargo.toml");
    for name in &names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
    }
    assert_eq!(names.len(), 13);
}

macro_rules! smoke_tests {
    ($($name:ident),* $(,)?) => {
        const SMOKED: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                smoke(stringify!($name));
            }
        )*
    };
}

smoke_tests!(
    config_toml,
    csv_dataset,
    csv_leaderboard,
    csv_models,
    header_link,
    header_ratelimit,
    header_retry_after,
    hub_list_page,
    hub_model_record,
    leaderboard_formatted,
    leaderboard_parquet,
    leaderboard_rows,
    leaderboard_table,
);

/// The parquet seeds (written by DuckDB from the real `/rows` sample, with the real
/// features' dtypes) read as the source reads the real file: every row, every row good.
#[test]
fn the_parquet_seeds_read_as_the_source_reads_the_real_file() {
    let mut sizes: Vec<usize> = seeds("leaderboard_parquet")
        .into_iter()
        .map(|seed| {
            let rows = hfharvest::scores::parquet_rows(seed.into()).expect("a seed reads");
            for row in &rows {
                hfharvest::scores::ScoreRow::from_contents(row).expect("a real row is good");
            }
            rows.len()
        })
        .collect();
    sizes.sort();
    assert_eq!(sizes, [1, 1, 1, 1, 1, 1, 1, 1, 14]);
}

/// Found by the leaderboard_parquet fuzz target (crash-948df65d…): a malformed parquet
/// file made arrow-buffer panic (`offset + len out of bounds`) inside the reader. The
/// source now gets an error naming the file as malformed, and the process goes on.
#[test]
fn a_parquet_file_that_panics_the_reader_is_an_error() {
    let crash = include_bytes!("fixtures/fuzz/leaderboard_parquet-crash-948df65d.parquet");
    let error = hfharvest::scores::parquet_rows(bytes::Bytes::from_static(crash))
        .expect_err("the file is malformed");
    assert!(
        error.starts_with("a malformed parquet file (the parquet reader failed: "),
        "{error}"
    );
    fuzz::targets::leaderboard_parquet(crash);
}
