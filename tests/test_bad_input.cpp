// The bad-input tables, together. Each concept's test file ends with a table
// of the bad calls a user could make on it (test_util.hpp:
// XGRAD_TEST_BAD_CALLS); each table registers itself under its file's name,
// and this suite checks that together they still
// hold every bad call the single table of the whole API used to hold (393
// rows when it was split by concept), so that no table quietly shrinks.
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
