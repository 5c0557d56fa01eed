/*
 * stack_trim: gives this thread's idle stack pages back to the kernel.
 *
 * A thread keeps resident every stack page its deepest call ever touched
 * (parsing a body, rendering a reply), and a stream holds its thread for as
 * long as its model thinks.  A stream that has gone quiet calls
 * stack_trim() from its wait: the pages below the caller's frame hold no
 * live data, so they are dropped (MADV_DONTNEED) and come back as zero
 * pages the next time a call reaches them.
 */
#ifndef LITELLM_STACK_TRIM_H
#define LITELLM_STACK_TRIM_H

/* Drops the pages of the calling thread's stack below the caller's frame.
 * Only in threads started with pthread_create (their stack is a mapping
 * of its own); a no-op in the main thread and where the bounds cannot be
 * read. */
void stack_trim(void);

#endif
