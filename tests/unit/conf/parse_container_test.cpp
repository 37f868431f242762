#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

// A Pod with one container (ports http=8080, admin=9000) whose readinessProbe starts on
// line 10, indented six spaces.
std::string pod_with_probe(const std::string& probe) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n"
         "      ports:\n        - {name: http, containerPort: 8080}\n        - {name: admin, "
         "containerPort: 9000}\n      readinessProbe:\n" +
         probe;
}

Probe probe_of(const std::string& probe) {
  const Snapshot snapshot = load_ok(pod_with_probe(probe));
  REQUIRE(snapshot.pods[0].containers[0].readiness_probe.has_value());
  return *snapshot.pods[0].containers[0].readiness_probe;
}

TEST_CASE("an httpGet probe with Kubernetes' defaults") {
  const Probe probe = probe_of("        httpGet: {path: /healthz, port: http}\n");
  CHECK(probe.kind == Probe::Kind::HttpGet);
  CHECK(probe.path == "/healthz");
  CHECK(probe.port == PortRef{0, "http"});
  CHECK(probe.initial_delay == std::chrono::seconds(0));
  CHECK(probe.period == std::chrono::seconds(10));
  CHECK(probe.timeout == std::chrono::seconds(1));
  CHECK(probe.success_threshold == 1);
  CHECK(probe.failure_threshold == 3);
}

TEST_CASE("probe timings and headers are read") {
  const Probe probe = probe_of(
      "        httpGet:\n          port: 9000\n          scheme: HTTP\n          host: 127.0.0.1\n"
      "          httpHeaders: [{name: X-Probe, value: '1'}]\n        initialDelaySeconds: 2\n"
      "        periodSeconds: 3\n        timeoutSeconds: 4\n        successThreshold: 2\n"
      "        failureThreshold: 5\n");
  CHECK(probe.port == PortRef{9000, ""});
  CHECK(probe.path == "/");
  CHECK(probe.host == "127.0.0.1");
  CHECK_FALSE(probe.https);
  REQUIRE(probe.http_headers.size() == 1);
  CHECK(probe.http_headers[0].name == "X-Probe");
  CHECK(probe.http_headers[0].value == "1");
  CHECK(probe.initial_delay == std::chrono::seconds(2));
  CHECK(probe.period == std::chrono::seconds(3));
  CHECK(probe.timeout == std::chrono::seconds(4));
  CHECK(probe.success_threshold == 2);
  CHECK(probe.failure_threshold == 5);
}

TEST_CASE("a tcpSocket probe") {
  const Probe probe = probe_of("        tcpSocket: {port: admin}\n");
  CHECK(probe.kind == Probe::Kind::TcpSocket);
  CHECK(probe.port == PortRef{0, "admin"});
}

TEST_CASE("an httpGet probe with scheme HTTPS") {
  const Probe probe = probe_of("        httpGet: {path: /healthz, port: http, scheme: HTTPS}\n");
  CHECK(probe.kind == Probe::Kind::HttpGet);
  CHECK(probe.https);
}

TEST_CASE("probe errors") {
  CHECK(only_error(pod_with_probe("        httpGet: {port: metrics}\n")) ==
        "test.yaml:11:25: spec.containers[0].readinessProbe.httpGet.port: port \"metrics\" is not "
        "a port of this container");
  // Kubernetes' validateHTTPGetAction: HTTP or HTTPS, spelt so.
  CHECK(only_error(pod_with_probe("        httpGet: {port: http, scheme: https}\n")) ==
        "test.yaml:11:39: spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "
        "\"https\": supported values: \"HTTP\", \"HTTPS\"");
  CHECK(only_error(pod_with_probe("        httpGet: {path: /}\n")) ==
        "test.yaml:11:18: spec.containers[0].readinessProbe.httpGet.port: Required value");
  CHECK(only_error(pod_with_probe("        periodSeconds: 5\n")) ==
        "test.yaml:11:9: spec.containers[0].readinessProbe: a probe needs httpGet or tcpSocket");
  CHECK(
      only_error(pod_with_probe("        tcpSocket: {port: 80}\n        httpGet: {port: 80}\n")) ==
      "test.yaml:11:9: spec.containers[0].readinessProbe: a probe takes one of httpGet and "
      "tcpSocket, not both");
  CHECK(only_error(pod_with_probe("        httpGet: {port: http, httpHeaders: [{value: x}]}\n")) ==
        "test.yaml:11:45: spec.containers[0].readinessProbe.httpGet.httpHeaders[0].name: "
        "Required value");
}

TEST_CASE("probe timing fields must be positive (initialDelaySeconds may be 0)") {
  const std::string handler = "        tcpSocket: {port: 8080}\n";
  CHECK(load(pod_with_probe(handler + "        initialDelaySeconds: 0\n")).ok());
  for (const char* field :
       {"periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"}) {
    CAPTURE(field);
    const std::string text = only_error(pod_with_probe(handler + "        " + field + ": 0\n"));
    CHECK(text.starts_with("test.yaml:12:"));
    CHECK(text.ends_with(
        std::string("readinessProbe.") + field + ": Invalid value: 0: must be between 1 and " +
        (std::string(field).ends_with("Threshold") ? "1000" : "86400") + ", inclusive"));
  }
  CHECK(only_error(pod_with_probe(handler + "        initialDelaySeconds: -1\n"))
            .ends_with(
                "initialDelaySeconds: Invalid value: -1: must be between 0 and 86400, inclusive"));
}

TEST_CASE("exec probes are skipped with a warning, so real manifests still load") {
  const LoadResult result = load(pod_with_probe("        exec: {command: [true]}\n"));
  REQUIRE(result.ok());
  CHECK_FALSE(result.snapshot->pods[0].containers[0].readiness_probe.has_value());
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].message ==
        "exec and grpc probes are not supported; the probe is ignored");
}

}  // namespace
}  // namespace svcproxy::conf
