//! Filling a statement's lists: allocated directly at their size, items written in place.

/// Give `list` room for `capacity` items if it has no buffer yet, before
/// its first push. `Vec::with_capacity` allocates at once, where the first
/// `push` into an empty `Vec` takes the slower growth path; building and
/// compiling a statement starts several lists (measured in
/// `docs/performance.md`, "What was fixed"). The caller pushes after this,
/// so the item is built where it is stored.
#[inline(always)]
pub(crate) fn allocate_first<T>(list: &mut Vec<T>, capacity: usize) {
    if list.capacity() == 0 {
        *list = Vec::with_capacity(capacity);
    }
}

/// Push `item` onto `list` by pushing `blank` and then writing `item` over
/// it. Pushed directly, an item that has to outlive the list's growth (a
/// call) is built on the stack and copied in, and the copy reads it back in
/// wider pieces than it was written: a load that the store buffer cannot
/// forward stalls the CPU (`perf` shows these; callgrind, which counts
/// instructions, does not). A constant `blank` is stored straight into the
/// list, and the item's parts are then written over it. `blank` must be a
/// constant that owns nothing: it is forgotten, not dropped (a blank that
/// owned memory would leak), so that writing over it costs nothing.
#[inline(always)]
pub(crate) fn push_in_place<T>(list: &mut Vec<T>, blank: T, item: T) {
    list.push(blank);
    if let Some(slot) = list.last_mut() {
        // Forgotten, not dropped, which spares reading its just-stored tag
        // back to decide how to drop it: a blank that owned memory would
        // leak, which is why callers must pass one that owns nothing.
        std::mem::forget(std::mem::replace(slot, item));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_gets_the_given_room_and_a_started_one_is_left_alone() {
        let mut list: Vec<char> = Vec::new();
        allocate_first(&mut list, 3);
        assert_eq!(list.capacity(), 3);
        list.extend(['a', 'b', 'c', 'd']);
        let room = list.capacity();
        allocate_first(&mut list, 3);
        assert_eq!((list.as_slice(), list.capacity()), (&['a', 'b', 'c', 'd'][..], room));
    }

    #[test]
    fn an_item_pushed_in_place_is_the_last_one_and_the_blank_is_gone() {
        let mut list = vec![String::from("a")];
        push_in_place(&mut list, String::new(), String::from("b"));
        push_in_place(&mut list, String::new(), String::from("c"));
        assert_eq!(list, ["a", "b", "c"]);
    }
}
