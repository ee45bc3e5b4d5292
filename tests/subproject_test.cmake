# Configures, builds and runs a separate project that adds taskmaster with
# add_subdirectory while CGAL and Eigen cannot be found (see
# subproject_consumer/CMakeLists.txt for what it checks).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR} -G ${GENERATOR}
                        -DCMAKE_BUILD_TYPE=Debug -DTASKMASTER_SOURCE_DIR=${SOURCE_DIR}
                        "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR} --target consumer --parallel 2
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/consumer OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "taskmaster ${VERSION}: told 20")
  message(FATAL_ERROR "the consumer did not run as expected (${rc}): ${out}")
endif()
message(STATUS "consumer says: ${out}")
