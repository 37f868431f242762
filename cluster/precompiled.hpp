// Precompiled for the cluster target: Asio, Beast's HTTP client and Boost.JSON dominate its
// build time.
#pragma once
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
