//! Valgrind client requests for callgrind, without the C headers: the
//! "magic" no-op instruction sequence from valgrind.h (amd64), which
//! valgrind recognises and which does nothing on a real CPU.

#[cfg(target_arch = "x86_64")]
fn client_request(request: u64, arg1: u64) -> u64 {
    let args: [u64; 6] = [request, arg1, 0, 0, 0, 0];
    let mut result: u64 = 0;
    // SAFETY: the rotations of rdi add up to 128 bits (rdi is unchanged) and
    // `xchg rbx, rbx` changes nothing; under valgrind the sequence reads the
    // six words at rax and writes the answer into rdx.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") result,
        );
    }
    result
}

#[cfg(not(target_arch = "x86_64"))]
fn client_request(_request: u64, _arg1: u64) -> u64 {
    0
}

/// VG_USERREQ_TOOL_BASE('C', 'T')
const CALLGRIND_BASE: u64 = ((b'C' as u64) << 24) | ((b'T' as u64) << 16);
const DUMP_STATS: u64 = CALLGRIND_BASE;
const ZERO_STATS: u64 = CALLGRIND_BASE + 1;

/// Reset callgrind's counters (all threads).
pub fn zero_stats() {
    client_request(ZERO_STATS, 0);
}

/// Write callgrind's counters since the last reset to a new dump file.
pub fn dump_stats() {
    client_request(DUMP_STATS, 0);
}
