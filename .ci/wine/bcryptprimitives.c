/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Rust test binaries under Wine 8.0.
 *
 * Rust's std (since 1.78) imports ProcessPrng from bcryptprimitives.dll for its random numbers
 * (HashMap seeds). Debian's Wine 8.0 has no such DLL, so every binary fails to start with
 * status c0000135 (STATUS_DLL_NOT_FOUND). This DLL exports ProcessPrng and fills the buffer
 * through RtlGenRandom, which advapi32 exports as SystemFunction036 and Wine implements.
 * .ci/run builds it with mingw and copies it beside the test binaries; it is never committed.
 */
#include <windows.h>

/* advapi32's RtlGenRandom; declared here, as ntsecapi.h only offers it under a macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): always TRUE on Windows; so here, on success. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
