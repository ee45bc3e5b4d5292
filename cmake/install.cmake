# Installs the library so that find_package(taskmaster) works from the prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS taskmaster EXPORT taskmasterTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/taskmaster DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/taskmaster/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/taskmaster)
install(EXPORT taskmasterTargets NAMESPACE taskmaster::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
# The CGAL-based learners in an export of their own: the package config loads
# them only where CGAL is found, so the rest needs no CGAL.
if(TARGET taskmaster_mesh_learners)
  install(TARGETS taskmaster_mesh_learners EXPORT taskmasterMeshLearnersTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT taskmasterMeshLearnersTargets NAMESPACE taskmaster::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
endif()

configure_package_config_file(cmake/taskmasterConfig.cmake.in
  ${PROJECT_BINARY_DIR}/taskmasterConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/taskmasterConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/taskmasterConfig.cmake
              ${PROJECT_BINARY_DIR}/taskmasterConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/taskmaster)
