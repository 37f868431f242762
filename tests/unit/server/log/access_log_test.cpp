// The two access-log formats carry the same fields in the same order; these lines are
// what log readers (and test_access_log, POD_PATTERN in the harness) parse.
#include "server/log/access_log.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>

using namespace svcproxy::server;
namespace conf = svcproxy::conf;

namespace {

std::string line_in(conf::AccessLog::Format format, const auto& record) {
  conf::AccessLog settings;
  settings.format = format;
  std::string error;
  REQUIRE(configure_access_log(settings, error));
  std::string line;
  append_access_log_line(record, line);
  configure_access_log(conf::AccessLog{}, error);
  static const std::regex timestamp(R"(\d{4}-\d{2}-\d{2}T[\d:.]+Z)");
  return std::regex_replace(line, timestamp, "TS");
}

}  // namespace

TEST_CASE("an L4 connection's access-log line, as text and as JSON") {
  L4AccessRecord r;
  r.service = "default/web:80";
  r.client = "10.0.0.9:5555";
  r.pod = "default/web-1";
  r.upstream = "127.0.1.1:80";
  r.bytes_received = 12;
  r.bytes_sent = 3456;
  r.duration = std::chrono::milliseconds(42);
  r.close_reason = "eof";
  CHECK(line_in(conf::AccessLog::Format::Text, r) ==
        "TS l4 service=default/web:80 client=10.0.0.9:5555 pod=default/web-1 "
        "upstream=127.0.1.1:80 received=12 sent=3456 duration_ms=42 close=eof\n");
  CHECK(line_in(conf::AccessLog::Format::Json, r) ==
        R"({"time":"TS","kind":"l4","service":"default/web:80","client":"10.0.0.9:5555",)"
        R"("pod":"default/web-1","upstream":"127.0.1.1:80","bytes_received":12,)"
        R"("bytes_sent":3456,"duration_ms":42,"close":"eof"})"
        "\n");
  L4AccessRecord unreached;
  unreached.service = "x/\"q\":1";
  unreached.client = "[::1]:9";
  unreached.close_reason = "no_endpoint";
  CHECK(line_in(conf::AccessLog::Format::Text, unreached) ==
        "TS l4 service=x/\"q\":1 client=[::1]:9 pod=- upstream=- received=0 sent=0 "
        "duration_ms=0 close=no_endpoint\n");
  CHECK(line_in(conf::AccessLog::Format::Json, unreached) ==
        R"({"time":"TS","kind":"l4","service":"x/\"q\":1","client":"[::1]:9","pod":"",)"
        R"("upstream":"","bytes_received":0,"bytes_sent":0,"duration_ms":0,)"
        R"("close":"no_endpoint"})"
        "\n");
}

TEST_CASE("an HTTP request's access-log line, as text and as JSON") {
  L7AccessRecord r;
  r.service = "default/web:80";
  r.client = "10.0.0.9:5555";
  r.pod_namespace = "default";
  r.pod_name = "web-2";
  r.method = "GET";
  r.target = "/a\"b\\c";
  r.status = 200;
  r.bytes_received = 80;
  r.bytes_sent = 900;
  r.duration = std::chrono::milliseconds(7);
  r.upstream_duration = std::chrono::milliseconds(5);
  CHECK(line_in(conf::AccessLog::Format::Text, r) ==
        "TS http service=default/web:80 client=10.0.0.9:5555 pod=default/web-2 method=GET "
        "target=/a\"b\\c status=200 received=80 sent=900 duration_ms=7 upstream_ms=5\n");
  CHECK(line_in(conf::AccessLog::Format::Json, r) ==
        R"({"time":"TS","kind":"http","service":"default/web:80","client":"10.0.0.9:5555",)"
        R"("pod":"default/web-2","method":"GET","target":"/a\"b\\c","status":200,)"
        R"("bytes_received":80,"bytes_sent":900,"duration_ms":7,"upstream_ms":5,"error":""})"
        "\n");
  L7AccessRecord failed;
  failed.service = "s";
  failed.client = "c";
  failed.error = "client_reset";
  CHECK(line_in(conf::AccessLog::Format::Text, failed) ==
        "TS http service=s client=c pod=- method=- target=- status=0 received=0 sent=0 "
        "duration_ms=0 upstream_ms=0 error=client_reset\n");
  CHECK(line_in(conf::AccessLog::Format::Json, failed) ==
        R"({"time":"TS","kind":"http","service":"s","client":"c","pod":"","method":"",)"
        R"("target":"","status":0,"bytes_received":0,"bytes_sent":0,"duration_ms":0,)"
        R"("upstream_ms":0,"error":"client_reset"})"
        "\n");
}
