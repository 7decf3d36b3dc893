/* SPDX-License-Identifier: MIT */
#include "status.h"

const char *ms_strerror(ms_status status)
{
	switch (status) {
	case MS_OK:                   return "success";
	case MS_ERR_TRUNCATED:        return "truncated input";
	case MS_ERR_BAD_MAGIC:        return "bad magic/signature";
	case MS_ERR_UNSUPPORTED:      return "unsupported format variant";
	case MS_ERR_OUT_OF_BOUNDS:    return "offset or size out of bounds";
	case MS_ERR_OVERLAP:          return "overlapping regions";
	case MS_ERR_LIMIT:            return "limit exceeded";
	case MS_ERR_OVERFLOW:         return "size arithmetic overflow";
	case MS_ERR_NOT_FOUND:        return "not found";
	case MS_ERR_BUFFER_TOO_SMALL: return "buffer too small";
	case MS_ERR_INVALID:          return "invalid value";
	}
	return "unknown error";
}
