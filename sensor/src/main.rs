//! The `vagt-sensor` command.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    transparent_huge_pages_off();
    let code = vagt_sensor::app::main();
    std::process::exit(code);
}

/// Asks Linux not to back this process's memory with transparent huge
/// pages, as databases and Redis advise. The allocator asks for them by
/// default, and then the first touch of any byte of a 2 MiB region makes
/// the kernel clear all of it: the tables that grow under a flood of new
/// addresses paid that on every growth (most of the replay of a SYN flood
/// from 600,000 sources was the kernel clearing pages), and a replay of
/// the corpus mix touched 33 MiB more than it used. Without them
/// (bench/RESULTS.md): that flood 0.58 times the wall time, the corpus mix
/// 0.976 and 33 MiB less at its peak.
fn transparent_huge_pages_off() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes only integers and sets
    // one flag of this process's address space; it touches no memory of
    // ours. A kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
