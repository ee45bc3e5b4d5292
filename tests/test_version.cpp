// The version macros and taskmaster::version() agree with project(VERSION).
#include "taskmaster/version.hpp"

#include <gtest/gtest.h>

#include <string>

TEST(Version, LibraryVersionIsTheProjectVersion) {
  EXPECT_EQ(std::string(taskmaster::version()), TASKMASTER_PROJECT_VERSION);
}

TEST(Version, MacrosSpellTheProjectVersion) {
  const std::string from_macros = std::to_string(TASKMASTER_VERSION_MAJOR) + "." +
                                  std::to_string(TASKMASTER_VERSION_MINOR) + "." +
                                  std::to_string(TASKMASTER_VERSION_PATCH);
  EXPECT_EQ(from_macros, TASKMASTER_PROJECT_VERSION);
  EXPECT_EQ(TASKMASTER_VERSION, TASKMASTER_VERSION_MAJOR * 10000 + TASKMASTER_VERSION_MINOR * 100 +
                                    TASKMASTER_VERSION_PATCH);
}
