fn main() {
    for d in [
        "999999999s",
        "99999999s",
        "9999999s",
        "999999s",
        "99999m",
        "5m",
        "1111111111s",
        "59m",
    ] {
        let q = format!("rate(x[{d}])");
        println!(
            "{q:30} => {:?}",
            promql_parser::parser::parse(&q).map(|_| ())
        );
    }
}
