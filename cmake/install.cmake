# Installs the library so that find_package(taskmaster) works from the prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS taskmaster EXPORT taskmasterTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/taskmaster DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT taskmasterTargets NAMESPACE taskmaster::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)

configure_package_config_file(cmake/taskmasterConfig.cmake.in
  ${PROJECT_BINARY_DIR}/taskmasterConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/taskmasterConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/taskmasterConfig.cmake
              ${PROJECT_BINARY_DIR}/taskmasterConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
