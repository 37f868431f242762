// The rule that keeps a request from running twice.
#include "server/upstream/retry_policy.hpp"

#include <doctest/doctest.h>

using namespace svcproxy::server;

namespace {

FailedAttempt sent_and_reset(bool idempotent, bool reused) {
  FailedAttempt a;
  a.failure = UpstreamFailure::Reset;
  a.idempotent = idempotent;
  a.request_bytes_sent = 120;
  a.reused_connection = reused;
  return a;
}

}  // namespace

TEST_CASE("a non-idempotent request a pod may have read is never sent again") {
  for (bool reused : {false, true}) {
    CAPTURE(reused);
    CHECK(retry_decision(sent_and_reset(false, reused)) == RetryDecision::No);
    FailedAttempt one_byte = sent_and_reset(false, reused);
    one_byte.request_bytes_sent = 1;
    CHECK(retry_decision(one_byte) == RetryDecision::No);
  }
}

TEST_CASE("an idempotent request is retried: another pod, or the same on a fresh connection") {
  CHECK(retry_decision(sent_and_reset(true, false)) == RetryDecision::OtherPod);
  CHECK(retry_decision(sent_and_reset(true, true)) == RetryDecision::OtherOrSamePod);
}

TEST_CASE("a streamed body cannot be sent again, whatever the method") {
  FailedAttempt a = sent_and_reset(true, true);
  a.body_in_hand = false;
  CHECK(retry_decision(a) == RetryDecision::No);
}

TEST_CASE("nothing sent is always safe to retry") {
  FailedAttempt a = sent_and_reset(false, true);
  a.request_bytes_sent = 0;
  CHECK(retry_decision(a) == RetryDecision::OtherOrSamePod);
  a.reused_connection = false;
  CHECK(retry_decision(a) == RetryDecision::OtherPod);
  FailedAttempt connect;
  connect.failure = UpstreamFailure::ConnectFailed;
  CHECK(retry_decision(connect) == RetryDecision::OtherPod);
}

TEST_CASE("a response begun, malformed or late is never retried") {
  FailedAttempt started = sent_and_reset(true, true);
  started.response_started = true;
  CHECK(retry_decision(started) == RetryDecision::No);
  for (UpstreamFailure failure :
       {UpstreamFailure::BadResponse, UpstreamFailure::Timeout, UpstreamFailure::NoEndpoint}) {
    FailedAttempt a = sent_and_reset(true, true);
    a.failure = failure;
    CHECK(retry_decision(a) == RetryDecision::No);
  }
}

TEST_CASE("attempts are bounded") {
  FailedAttempt a = sent_and_reset(true, false);
  a.attempt = kMaxAttempts - 1;
  CHECK(retry_decision(a) == RetryDecision::OtherPod);
  a.attempt = kMaxAttempts;
  CHECK(retry_decision(a) == RetryDecision::No);
}

TEST_CASE("svcproxy's own resource failure is never retried on another pod") {
  FailedAttempt a;
  a.failure = UpstreamFailure::LocalResource;
  a.idempotent = true;
  a.request_bytes_sent = 0;
  CHECK(retry_decision(a) == RetryDecision::No);
  a.reused_connection = true;
  CHECK(retry_decision(a) == RetryDecision::No);
}
