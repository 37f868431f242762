// Event log with levels, to stderr. Thread-safe; one write per line so lines from
// different workers never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace svcproxy::server {

enum class LogLevel { Debug, Info, Warn, Error };

// nullopt-like false for an unknown name; `level` unchanged then.
bool parse_log_level(std::string_view name, LogLevel& level);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void write_log_line(LogLevel level, std::string_view message);

// Now as RFC 3339 UTC with milliseconds: 2026-11-26T06:14:35.123Z.
std::string utc_timestamp();

// log(LogLevel::Info, "listening on ", address, ":", port) — arguments are streamed, and
// only when the level is enabled.
template <typename... Parts>
void log(LogLevel level, const Parts&... parts) {
  if (!log_enabled(level)) return;
  std::ostringstream line;
  (line << ... << parts);
  write_log_line(level, line.str());
}

// At most one line per `interval` for a condition that repeats (accept failing with
// EMFILE every retry): admit() says whether to write a line now and how many occurrences
// were kept quiet since the last one. Not thread-safe: one per worker and condition.
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // The number of occurrences suppressed before this one when a line is due, else nothing.
  std::optional<std::uint64_t> admit(std::chrono::steady_clock::time_point now) {
    if (logged_ && now - last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_ = true;
    last_ = now;
    const std::uint64_t suppressed = suppressed_;
    suppressed_ = 0;
    return suppressed;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace svcproxy::server
