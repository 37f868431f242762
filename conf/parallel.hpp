// Runs independent pieces of work on the cores there are. For loading: a 60,000-document
// configuration is parsed document by document, and yaml-cpp is most of the cost.
#pragma once

#include <cstddef>
#include <functional>

namespace svcproxy::conf {

// Calls work(i) for every i in [0, count), on up to one thread per core (the caller's
// included) when count is at least `min_parallel`, else on the caller's thread. Each i is
// done exactly once, by one thread, in no particular order. The first exception thrown by
// work is rethrown here once every thread has stopped.
void for_each_index(std::size_t count, std::size_t min_parallel,
                    const std::function<void(std::size_t)>& work);

}  // namespace svcproxy::conf
