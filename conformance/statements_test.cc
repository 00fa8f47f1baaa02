// The statement table (statements.md) against the specifications' statement ids
// (statement_ids_v5.txt, statement_ids_v311.txt) and the suite itself (`suite
// --list-statements`): every id has exactly one row in its specification's section, every row
// names a real id, a "tested" row names tests that exist and check that statement, every test of
// the suite appears in its statement's row, and every other row says why. known_failures.txt
// names only tests that exist.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Statement ids, one a line; '#' starts a comment.
std::vector<std::string> ReadIds(const std::string& path) {
  std::vector<std::string> ids;
  for (const std::string& line : Lines(path)) {
    const std::string id = Trim(line.substr(0, line.find('#')));
    if (!id.empty()) ids.push_back(id);
  }
  return ids;
}

struct Row {
  std::string status;  // "tested", "client-side" or "not observable"
  std::string detail;  // test names (tested) or the reason
  int line = 0;
};

// version ("5.0" / "3.1.1") -> id -> rows. Sections start with "## MQTT 5.0" / "## MQTT 3.1.1";
// rows are "| MQTT-x.y.z-n | status | detail |".
std::map<std::string, std::map<std::string, std::vector<Row>>> ReadTable(const std::string& path) {
  std::map<std::string, std::map<std::string, std::vector<Row>>> table;
  std::string version;
  int n = 0;
  for (const std::string& line : Lines(path)) {
    ++n;
    if (line.rfind("## MQTT 5.0", 0) == 0) version = "5.0";
    if (line.rfind("## MQTT 3.1.1", 0) == 0) version = "3.1.1";
    if (line.rfind("| MQTT-", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    for (std::string cell; std::getline(ss, cell, '|');) cells.push_back(Trim(cell));
    EXPECT_GE(cells.size(), 3u) << path << ":" << n << ": a row needs id, status and detail";
    if (cells.size() < 3) continue;
    EXPECT_FALSE(version.empty()) << path << ":" << n << ": row before any '## MQTT' section";
    table[version][cells[0]].push_back(Row{cells[1], cells[2], n});
  }
  return table;
}

// The `name` in "`name`, `name2`".
std::vector<std::string> TestNames(const std::string& detail) {
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = detail.find('`', pos)) != std::string::npos) {
    const size_t end = detail.find('`', pos + 1);
    if (end == std::string::npos) break;
    names.push_back(detail.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return names;
}

struct SuiteTest {
  std::string statement;
  std::string version;
};

std::map<std::string, SuiteTest> ListSuite() {
  std::map<std::string, SuiteTest> tests;
  const std::string cmd = Env("SUITE") + " --list-statements";
  FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr) << cmd;
  if (p == nullptr) return tests;
  std::string out;
  char buf[4096];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, got);
  EXPECT_EQ(::pclose(p), 0) << cmd;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);) {
    std::stringstream fields(line);
    std::string name, statement, version;
    std::getline(fields, name, '\t');
    std::getline(fields, statement, '\t');
    std::getline(fields, version, '\t');
    EXPECT_FALSE(tests.contains(name)) << "two tests are named " << name;
    tests[name] = SuiteTest{statement, version};
  }
  return tests;
}

class StatementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ids_["5.0"] = ReadIds(Env("IDS_V5"));
    ids_["3.1.1"] = ReadIds(Env("IDS_V311"));
    table_ = ReadTable(Env("STATEMENTS"));
    suite_ = ListSuite();
  }
  std::map<std::string, std::vector<std::string>> ids_;
  std::map<std::string, std::map<std::string, std::vector<Row>>> table_;
  std::map<std::string, SuiteTest> suite_;
};

TEST_F(StatementsTest, IdListsLookComplete) {
  // Appendix B of MQTT 5.0 numbers 251 statements; MQTT 3.1.1 tags 137 in its body.
  EXPECT_EQ(ids_["5.0"].size(), 251u);
  EXPECT_EQ(ids_["3.1.1"].size(), 137u);
  for (const auto& [version, ids] : ids_) {
    std::set<std::string> seen;
    for (const std::string& id : ids) {
      EXPECT_TRUE(seen.insert(id).second) << version << ": " << id << " listed twice";
      EXPECT_EQ(id.rfind("MQTT-", 0), 0u) << version << ": " << id;
    }
  }
}

TEST_F(StatementsTest, EveryStatementHasExactlyOneRow) {
  for (const auto& [version, ids] : ids_) {
    for (const std::string& id : ids) {
      const auto it = table_[version].find(id);
      ASSERT_NE(it, table_[version].end())
          << "statements.md has no row for " << id << " in the MQTT " << version << " section";
      EXPECT_EQ(it->second.size(), 1u) << id << " (" << version << ") has several rows";
    }
  }
}

TEST_F(StatementsTest, EveryRowIsAStatementWithAKnownStatus) {
  for (const auto& [version, rows] : table_) {
    const std::vector<std::string>& ids = ids_[version];
    for (const auto& [id, list] : rows) {
      EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end())
          << "statements.md:" << list[0].line << ": " << id << " is not a statement of MQTT "
          << version;
      for (const Row& row : list) {
        EXPECT_TRUE(row.status == "tested" || row.status == "client-side" ||
                    row.status == "not observable")
            << "statements.md:" << row.line << ": unknown status '" << row.status << "'";
        EXPECT_FALSE(row.detail.empty()) << "statements.md:" << row.line << ": no detail";
      }
    }
  }
}

TEST_F(StatementsTest, TestedRowsNameExistingTestsOfThatStatement) {
  for (const auto& [version, rows] : table_) {
    for (const auto& [id, list] : rows) {
      for (const Row& row : list) {
        const std::vector<std::string> names = TestNames(row.detail);
        if (row.status != "tested") {
          EXPECT_TRUE(names.empty()) << "statements.md:" << row.line << ": " << id << " is '"
                                     << row.status << "' but names tests";
          continue;
        }
        EXPECT_FALSE(names.empty()) << "statements.md:" << row.line << ": tested by nothing";
        for (const std::string& name : names) {
          const auto it = suite_.find(name);
          if (it == suite_.end()) {
            ADD_FAILURE() << "statements.md:" << row.line << ": no test " << name;
            continue;
          }
          EXPECT_EQ(it->second.statement, id) << name;
          EXPECT_EQ(it->second.version, version) << name;
        }
      }
    }
  }
}

TEST_F(StatementsTest, EveryTestIsInTheTable) {
  ASSERT_FALSE(suite_.empty());
  for (const auto& [name, test] : suite_) {
    const auto& rows = table_[test.version];
    const auto it = rows.find(test.statement);
    ASSERT_NE(it, rows.end()) << name << ": no row for " << test.statement;
    const std::vector<std::string> names = TestNames(it->second[0].detail);
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
        << "the row of " << test.statement << " (" << test.version << ") does not name " << name;
  }
}

TEST_F(StatementsTest, KnownFailuresNameExistingTests) {
  for (const std::string& line : Lines(Env("KNOWN_FAILURES"))) {
    const std::string name = Trim(line.substr(0, line.find('#')));
    if (name.empty()) continue;
    EXPECT_TRUE(suite_.contains(name)) << "known_failures.txt: no test " << name;
  }
}

}  // namespace
