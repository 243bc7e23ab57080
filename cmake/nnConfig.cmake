# find_package(nn): the INTERFACE target nn::nn for an installed nn.h (headers in
# <prefix>/include, this file in <prefix>/lib/cmake/nn), with libm, and OpenMP for each
# enabled language it is found for unless NN_USE_OPENMP is OFF. Installed unchanged by
# cmake --install and make install; it locates the prefix from its own path, so a
# DESTDIR-staged or moved tree works too.
get_filename_component(_nn_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET nn::nn)
    add_library(nn::nn INTERFACE IMPORTED)
    set_target_properties(nn::nn PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_nn_prefix}/include")
    find_library(NN_LIBM m)
    if(NN_LIBM)
        target_link_libraries(nn::nn INTERFACE ${NN_LIBM})
    endif()
    if(NOT DEFINED NN_USE_OPENMP OR NN_USE_OPENMP)
        find_package(OpenMP QUIET)
        foreach(_nn_lang C CXX)
            if(TARGET OpenMP::OpenMP_${_nn_lang})
                target_link_libraries(nn::nn INTERFACE OpenMP::OpenMP_${_nn_lang})
            endif()
        endforeach()
        unset(_nn_lang)
    endif()
endif()
if(NOT EXISTS "${_nn_prefix}/include/nn.h")
    set(nn_FOUND FALSE)
    set(nn_NOT_FOUND_MESSAGE "nn.h is not in ${_nn_prefix}/include")
endif()
unset(_nn_prefix)
