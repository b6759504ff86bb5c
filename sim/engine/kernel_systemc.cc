// kernel_systemc.cc -- the SystemC backend of the event kernel (see kernel.h), behind the
// C-callable shim of kernel_shim.h: built as the module imcsim-systemc.so, which kernel.c loads
// when a run asks for this backend.
//
// One SystemC module for the whole process (SystemC elaborates once): a method process
// sensitive to one sc_event. Each run notifies the event at the first queued tick; at each
// trigger the method dispatches every event due now (kernel.c's queue decides the order), then
// re-notifies at the next queued tick. SystemC's scheduler advances time; sc_start returns when
// nothing is left. Kernel ticks are counted from SystemC's time when the kernel's first run
// started, so successive kernels in one process each start at tick 0. No exception leaves this file.
#include <systemc>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <type_traits>

#include "config.h"
#include "sim/engine/kernel_shim.h"

namespace {

struct Driver : sc_core::sc_module {
    sc_core::sc_event wake;
    imc_kernel *kernel = nullptr;
    const imc_kernel_shim_ops *ops = nullptr;
    uint64_t base_ps = 0; // SystemC time (ps) at tick 0 of the current kernel
    int status = 0;

    explicit Driver(sc_core::sc_module_name name) : sc_core::sc_module(name)
    {
        SC_METHOD(step);
        sensitive << wake;
        dont_initialize();
    }

    uint64_t now_ps() const
    {
        return sc_core::sc_time_stamp().value(); // the time resolution is 1 ps
    }

    void notify_next()
    {
        imc_tick next = ops->next(kernel);
        if (next == UINT64_MAX)
            return;
        uint64_t at = base_ps + next, now = now_ps();
        wake.notify(sc_core::sc_time::from_value(at > now ? at - now : 0));
    }

    void step()
    {
        status = ops->dispatch(kernel, now_ps() - base_ps);
        if (!status)
            notify_next();
    }

    SC_HAS_PROCESS(Driver);
};

Driver *driver = nullptr;

} // namespace

extern "C" int imc_kernel_shim_run_systemc(imc_kernel *k, const imc_kernel_shim_ops *ops, char *msg,
                                           size_t msg_size)
{
    try {
        if (!driver) {
            // imcsim's stdout is its report: no SystemC banner in it.
            setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
            sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
            sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
            driver = new Driver("imcsim_kernel");
        }
        driver->kernel = k;
        driver->ops = ops;
        driver->status = 0;
        // tick 0 of this kernel: where SystemC stands, less the time an earlier run of it took
        driver->base_ps = driver->now_ps() - ops->now(k);
        if (ops->next(k) == UINT64_MAX)
            return 0;
        driver->notify_next();
        sc_core::sc_start(); // until no notification is pending
        driver->kernel = nullptr;
        return driver->status;
    } catch (const std::exception &e) {
        std::snprintf(msg, msg_size, "SystemC: %s", e.what());
    } catch (...) {
        std::snprintf(msg, msg_size, "SystemC: unknown exception");
    }
    return IMC_EINTERNAL;
}

extern "C" uint64_t imc_kernel_shim_systemc_time_ps(void)
{
    return sc_core::sc_time_stamp().value();
}

// libsystemc's own main() calls sc_main, so the library needs one to link against. imcsim has
// its own main() and never enters this; reaching it would mean the wrong main was linked.
int sc_main(int, char *[])
{
    std::fputs("imcsim: internal error: SystemC's main() ran instead of imcsim's\n", stderr);
    return 1;
}

// kernel.c calls these through pointers of the shim's types: the same types, checked here.
static_assert(std::is_same<decltype(imc_kernel_shim_run_systemc), imc_kernel_shim_run_fn>::value,
              "the run entry point's type");
static_assert(
    std::is_same<decltype(imc_kernel_shim_systemc_time_ps), imc_kernel_shim_time_fn>::value,
    "the time entry point's type");
