// One access-log line per L4 connection and per L7 request, as text or JSON, to stderr
// or a file (reopened on SIGUSR1 for logrotate). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "conf/model.hpp"

namespace svcproxy::server {

struct L4AccessRecord {
  std::string service;               // namespace/name:port
  std::string client;                // ip:port
  std::string pod;                   // namespace/name, empty when none was reached
  std::string upstream;              // ip:port
  std::uint64_t bytes_received = 0;  // from the client
  std::uint64_t bytes_sent = 0;      // to the client
  std::chrono::steady_clock::duration duration{};
  std::string close_reason;
};

// Applies accessLog settings; returns false (and keeps the old sink) when the file cannot
// be opened.
bool configure_access_log(const conf::AccessLog& settings, std::string& error);
void reopen_access_log();

void write_access_log(const L4AccessRecord& record);

}  // namespace svcproxy::server
