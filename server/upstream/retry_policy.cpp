#include "server/upstream/retry_policy.hpp"

namespace svcproxy::server {

RetryDecision retry_decision(const FailedAttempt& a) {
  if (a.attempt >= kMaxAttempts) return RetryDecision::No;
  switch (a.failure) {
    case UpstreamFailure::NoEndpoint:
    case UpstreamFailure::Timeout:
    case UpstreamFailure::BadResponse:
    case UpstreamFailure::LocalResource:  // another pod would fail the same way
    case UpstreamFailure::TlsFailed:      // connect() already tried every pod
      return RetryDecision::No;
    case UpstreamFailure::ConnectFailed:
      // Nothing reached a pod; the refusing one is not asked again for this request.
      return RetryDecision::OtherPod;
    case UpstreamFailure::Reset:
      break;
  }
  if (a.response_started) return RetryDecision::No;
  const bool nothing_sent = a.request_bytes_sent == 0;
  if (!nothing_sent && !(a.idempotent && a.body_in_hand)) return RetryDecision::No;
  // A pooled connection the pod closed while idle says nothing about the pod: the same one
  // may serve it on a fresh connection. A fresh connection that failed moves on.
  return a.reused_connection ? RetryDecision::OtherOrSamePod : RetryDecision::OtherPod;
}

const char* to_string(RetryDecision decision) {
  switch (decision) {
    case RetryDecision::No:
      return "no";
    case RetryDecision::OtherPod:
      return "other_pod";
    case RetryDecision::OtherOrSamePod:
      return "other_or_same_pod";
  }
  return "?";
}

}  // namespace svcproxy::server
