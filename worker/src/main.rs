//! `worker`: the farm's worker process. The distributed adapters (RabbitMQ, Azure Blob Storage) are
//! not built yet; until they are, the worker runs only embedded, inside `producer submit`.

fn main() -> std::process::ExitCode {
    eprintln!("error: the distributed worker needs the RabbitMQ and Azure Blob adapters, which are not built yet; use `producer submit SCENE.rdla`, which runs the worker embedded");
    std::process::ExitCode::FAILURE
}
