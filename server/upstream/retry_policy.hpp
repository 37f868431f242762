// Whether a request that failed at a pod may be sent again: the one rule that keeps a
// request from running twice. Pure: the forwarder describes the failed attempt, this
// decides.
//
// A pod may have acted on any byte it received. So once a byte of a request left for a
// pod, only an idempotent method (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE)
// whose body is still whole in hand is sent again; a POST, a PATCH, any other method, or
// a body already streamed through gets 502 instead. Nothing sent (a refused or timed-out
// connect, a write that failed before its first byte) is always safe. A response begun, a
// malformed one, or a response timeout are never retried: the pod did answer, or may still
// be working on it.
#pragma once

#include <cstdint>

#include "server/http_message/http_errors.hpp"

namespace svcproxy::server {

struct FailedAttempt {
  UpstreamFailure failure = UpstreamFailure::Reset;
  bool idempotent = false;               // the request's method
  std::uint64_t request_bytes_sent = 0;  // of this attempt, head and body, written to the pod
  bool body_in_hand = true;              // the whole body (or none) is buffered to send again
  bool response_started = false;         // any byte of a response arrived
  bool reused_connection = false;        // the attempt went over a pooled connection
  int attempt = 1;                       // 1 for the first
};

enum class RetryDecision {
  No,              // answer the client with the failure
  OtherPod,        // a fresh connection to a pod not yet tried for this request
  OtherOrSamePod,  // another pod if there is one, else a fresh connection to the same one
};

inline constexpr int kMaxAttempts = 4;

RetryDecision retry_decision(const FailedAttempt& attempt);

const char* to_string(RetryDecision decision);

}  // namespace svcproxy::server
