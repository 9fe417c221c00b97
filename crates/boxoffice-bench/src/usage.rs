//! CPU time and memory of processes, from /proc (Linux): the bench's own overhead, and the
//! server's when its pid is given.

use serde::Serialize;

/// Linux reports CPU times in USER_HZ ticks, 100 a second on every common configuration.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime, in seconds, from the text of /proc/PID/stat.
pub fn parse_stat_cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name come state (3), ppid (4), … utime (14), stime (15).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// A `kB` line of /proc/PID/status, such as `VmHWM:` or `VmRSS:`.
pub fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

pub fn cpu_seconds(pid: &str) -> Option<f64> {
    parse_stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    parse_status_kib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        field,
    )
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerUsage {
    pub pid: u32,
    /// CPU seconds the server used during the run, and that as a share of one core.
    pub cpu_seconds: f64,
    pub cpu_percent: f64,
    /// Resident memory when the run started (after set-up).
    pub rss_before_kib: Option<u64>,
    /// Highest resident memory seen while sampling once a second during the run.
    pub rss_peak_kib: Option<u64>,
    /// The kernel's high-water mark of resident memory since the server started.
    pub vm_hwm_kib: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_past_a_tricky_command_name() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194304 500 0 0 0 250 50 0 0 20 0 \
                    4 0 100 12345678 900 18446744073709551615";
        assert_eq!(parse_stat_cpu_seconds(stat), Some(3.0));
        assert_eq!(parse_stat_cpu_seconds("garbage"), None);
    }

    #[test]
    fn reads_memory_lines() {
        let status =
            "Name:\tboxoffice\nVmPeak:\t  900000 kB\nVmHWM:\t   34560 kB\nVmRSS:\t   30000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(34_560));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(30_000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }
}
