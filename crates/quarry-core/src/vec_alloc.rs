//! Allocating a statement's small lists directly at their size.

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
}
