// The bad-input tables, together. Each concept's test file ends with a table
// of the bad calls a user could make on it (XGRAD_TEST_BAD_CALLS in
// test_util.hpp), which registers itself under its file's name. This suite
// checks that together the tables still hold every bad call of the single
// table they were split from (393 rows), so that no table quietly shrinks.
#include <boost/test/unit_test.hpp>
#include <cstddef>

#include "test_util.hpp"

BOOST_AUTO_TEST_SUITE(test_bad_input)

BOOST_AUTO_TEST_CASE(the_tables_together_hold_every_bad_call) {
  std::size_t total = 0;
  for (const auto& table : xgrad_test::bad_call_tables()) {
    const std::size_t rows = table.second().size();
    BOOST_TEST_MESSAGE(table.first << ": " << rows << " bad calls");
    BOOST_TEST(rows > 0u, table.first << " has an empty table");
    total += rows;
  }
  BOOST_TEST_MESSAGE(total << " bad calls in " << xgrad_test::bad_call_tables().size()
                           << " tables");
  BOOST_TEST(xgrad_test::bad_call_tables().size() >= 30u);
  BOOST_TEST(total >= 393u + 28u);  // and the 28 rows of the conv and pooling error tables
}

BOOST_AUTO_TEST_SUITE_END()  // test_bad_input
