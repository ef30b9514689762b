// main() of the executable that runs several suites (tests/meson.build):
// Boost.Test defines it where BOOST_TEST_MODULE is set before the header. First
// in the executable's sources, so that it also comes first in a unity build.
#define BOOST_TEST_MODULE xgrad
#include <boost/test/unit_test.hpp>
