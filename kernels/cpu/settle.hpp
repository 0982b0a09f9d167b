// Letting a freshly started machine settle before it is measured. On the device machine (a virtual machine
// started for each lease) the CPU's memory reads ran 1.5-2.3x slow for the first ~50 s after boot and then
// settled within run-to-run noise (device run 10: `hgca calibrate --quick` every 3 s from boot; GPU rows
// unaffected). A calibration started in that phase fitted CPU terms 11 % off (run 9). `hgca calibrate` and
// `hgca validate measure` therefore wait, by default, until the machine has been up 90 s, streaming memory
// on every thread meanwhile (whatever the host still has to back is then backed before the timed rows).
#pragma once

#include <functional>
#include <string>

namespace hgca::kernels {

// The largest minimum uptime a command accepts (--settle-s 0 to this).
inline constexpr double kMaxSettleSeconds = 3600;

// Seconds since boot (/proc/uptime); a negative value where it cannot be read.
double machine_uptime_seconds();

struct SettleOptions {
  double min_uptime_s = 90;  // wait until the machine has been up this long (0: do not wait)
  double max_wait_s = 300;   // whatever the clock says, never wait longer than this
  int threads = 0;           // streaming threads while waiting; 0: every hardware thread
  std::size_t buffer_bytes = std::size_t{1} << 30;  // the buffer streamed while waiting
  std::function<double()> uptime = machine_uptime_seconds;  // injectable for tests
  std::function<void(const std::string&)> log;               // one line when it waits, one when it is done
};

// Returns the seconds spent waiting (0 when the machine is already up long enough or its uptime is unknown).
double settle_machine(const SettleOptions& options);

}  // namespace hgca::kernels
