//! Compiles `proto/etcd_kv.proto` (the etcd v3 calls the benchmark makes) with protox: pure
//! Rust, so building needs no protoc. Client stubs only.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/etcd_kv.proto");
    let fds = protox::compile(["etcd_kv.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .compile_fds(fds)?;
    Ok(())
}
