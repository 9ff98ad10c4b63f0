//! Parse and encode throughput per data structure.
//!
//! Run with `cargo bench -p isbt128 --bench codec`. Measurement time is kept
//! short so a full run takes about a minute.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

/// One representative bar code per structure (ST-001 examples where published).
const SAMPLES: &[(&str, &str)] = &[
    ("001", "=A99991712345600"),
    ("002", "=%6200"),
    ("003", "=<S12954A0"),
    ("004", "=>019032"),
    ("005", "&>0261232359"),
    ("006", "=*017009"),
    ("007", "&*0170091330"),
    ("008", "=}017032"),
    ("009", "&}0170321200"),
    ("010", "&(N0001"),
    ("011", "={999999999999999100"),
    ("012", "=\\620000000000000000"),
    ("013", "&\\999999999999999100"),
    ("014", "&{029907999999999900"),
    ("015", "=[999999999999999999"),
    ("016", "=\"999999999999999999"),
    ("017", "=)1FE1234567"),
    ("018", "&)123F5678V0"),
    ("019", "=;A99990000222244445555"),
    ("020", "='A99990001AB"),
    ("021", "=-AB0000cd12"),
    ("022", "&-0000001234"),
    (
        "023",
        "=+04035=/A9997XYZ100T0479=,000012=A99991712345600=>019031",
    ),
    ("024", "=#0119800101"),
    ("025", "&#0105ABC12"),
    ("026", "=]201703"),
    ("027", "&\"321415000000000000"),
    ("028", "=$A999917123450102"),
    ("029", "&$020100010000100002000200002000"),
    ("030", "&%0010010010201"),
    ("031", "=(1001201701151515"),
    ("032", "=,000012"),
    ("033", "&+A9999AB3456"),
    ("034", "=/A9997AB3456T0123"),
    ("035", "&,1000000000000XYZ123"),
    ("036", "&,2000000000000000123"),
    ("037", "&,31234ABCDEFGHIJ12345"),
    ("038", "&,4PL001499Z549917123456A00T041600320181231"),
    ("039", "&:3553000001234567825"),
    ("040", "&/CHA999926ABC123"),
];

fn codec(c: &mut Criterion) {
    let mut parse_group = c.benchmark_group("parse");
    parse_group
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(20);
    for (number, text) in SAMPLES {
        parse_group.throughput(Throughput::Bytes(text.len() as u64));
        parse_group.bench_with_input(BenchmarkId::from_parameter(number), text, |b, t| {
            b.iter(|| isbt128::parse(black_box(t)));
        });
    }
    parse_group.finish();

    let mut encode_group = c.benchmark_group("encode");
    encode_group
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(20);
    for (number, text) in SAMPLES {
        let Ok(parsed) = isbt128::parse(text) else {
            panic!("sample {number} does not parse");
        };
        encode_group.throughput(Throughput::Bytes(text.len() as u64));
        encode_group.bench_with_input(BenchmarkId::from_parameter(number), &parsed, |b, p| {
            b.iter(|| black_box(p).encode());
        });
    }
    encode_group.finish();

    let mut misc = c.benchmark_group("misc");
    misc.warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(20);
    misc.bench_function("check_character_din", |b| {
        b.iter(|| isbt128::check_character(black_box("A999917123456")));
    });
    misc.bench_function("parse_scan_concatenated", |b| {
        b.iter(|| isbt128::parse_scan(black_box("]C4=A99991712345600=%6200")));
    });
    misc.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
