// Event log with levels, to stderr. Thread-safe; one write per line so lines from
// different workers never interleave.
#pragma once

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

}  // namespace svcproxy::server
