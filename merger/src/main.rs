//! `merger`: the farm's merger process. The distributed adapters (RabbitMQ, Azure Blob Storage) are
//! not built yet; until they are, the merger runs only embedded, inside `producer submit`.

fn main() -> std::process::ExitCode {
    eprintln!("error: the distributed merger needs the RabbitMQ and Azure Blob adapters, which are not built yet; use `producer submit SCENE.rdla`, which runs the merger embedded");
    std::process::ExitCode::FAILURE
}
