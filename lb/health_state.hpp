// Rise/fall hysteresis of a readinessProbe, as the kubelet applies it: readiness flips to
// ready after `success_threshold` consecutive successes and to not ready after
// `failure_threshold` consecutive failures. A probed pod starts not ready, so with the
// default threshold of 1 its first success makes it ready. Pure; not thread-safe (one
// owner: the prober on the control thread).
#pragma once

namespace svcproxy::lb {

class HealthState {
 public:
  HealthState(int success_threshold, int failure_threshold, bool initially_ready = false);

  bool ready() const { return ready_; }

  // Records one probe result. True when it changed readiness, so the caller logs once per
  // transition rather than once per probe.
  bool record(bool success);

 private:
  int success_threshold_;
  int failure_threshold_;
  bool ready_;
  int consecutive_ = 0;  // results in a row that disagree with `ready_`
};

}  // namespace svcproxy::lb
