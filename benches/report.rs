//! The annual report on a generated register (work in progress).

fn main() {
    println!("report benchmark: run with `cargo bench --bench report`");
}
