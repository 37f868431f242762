// One access-log line per L4 connection and per L7 request, as text or JSON, to stderr
// or a file (reopened on SIGUSR1 for logrotate). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "conf/model.hpp"

namespace svcproxy::server {

// One L4 connection. Views, like L7AccessRecord: valid for the call only.
struct L4AccessRecord {
  std::string_view service;          // namespace/name:port
  std::string_view client;           // ip:port
  std::string_view pod;              // namespace/name, empty when none was reached
  std::string_view upstream;         // ip:port
  std::uint64_t bytes_received = 0;  // from the client
  std::uint64_t bytes_sent = 0;      // to the client
  std::chrono::steady_clock::duration duration{};
  std::string_view close_reason;
};

// One L7 request. Views into the session's state: valid for the call only.
struct L7AccessRecord {
  std::string_view service;  // namespace/name:port
  std::string_view client;   // ip:port
  std::string_view pod_namespace;
  std::string_view pod_name;  // empty when no pod answered
  std::string_view method;
  std::string_view target;
  int status = 0;                    // 0: the client went away before a response
  std::uint64_t bytes_received = 0;  // from the client: head and body
  std::uint64_t bytes_sent = 0;      // to the client: head and body
  std::chrono::steady_clock::duration duration{};
  std::chrono::steady_clock::duration upstream_duration{};  // request sent to response head
  std::string_view error;  // why it failed (upstream_reset, ...), empty when it did not
};

// Applies accessLog settings; returns false (and keeps the old sink) when the file cannot
// be opened.
bool configure_access_log(const conf::AccessLog& settings, std::string& error);
void reopen_access_log();
// False under `accessLog.enabled: false`: callers skip formatting altogether.
bool access_log_enabled();

void write_access_log(const L4AccessRecord& record);
// Formats without allocating in the steady state (a per-thread line buffer).
void write_access_log(const L7AccessRecord& record);
// For callers that batch lines (a worker writes the lines of one event-loop round at once):
// appends the line, newline included, to `out`; then writes whole lines.
void append_access_log_line(const L7AccessRecord& record, std::string& out);
void append_access_log_line(const L4AccessRecord& record, std::string& out);
void write_access_log_lines(std::string_view lines);

}  // namespace svcproxy::server
