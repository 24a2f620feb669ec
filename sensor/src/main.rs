//! The `vagt-sensor` command.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    let code = vagt_sensor::app::main();
    std::process::exit(code);
}
