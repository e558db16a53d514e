// Main-safe calls: every call of the library that reads or writes the cache (or the secret store) as an
// `async` overload that does its work off the caller's actor. Platform-neutral: also compiled into the
// Linux test package.
//
// The generated `FieldSync` methods that touch the disk are synchronous (`projects(query:)`,
// `editProject(id:edit:)`...): called from the main actor, they would block it for the length of a SQLite
// transaction (`synchronous=FULL` for field work). Each has an `async` twin here with the same name and
// arguments; in an async context Swift picks the twin (and asks for `await`), which runs the call on a
// worker queue of this package and resumes the caller when it is done. The calls that already are `async`
// in the generated API (`refresh`, `sync`, `pushOutbox`, `validate`, `checkIn`, `addPhoto`,
// `discardLocalProject`, `runBackgroundSync`, `refreshByPushKey`) run on the library's own threads.
//
// Left synchronous on purpose, because they touch no disk: `deviceId()`, `isPaused()`, `liveWatches()`,
// `version()`, `setNetwork(network:)`, `setOnline(online:)`, `setDeviceSigner(signer:)`,
// `stopAutoImport()` and the `watch...` constructors (a watch reads when it is iterated).
//
// In a synchronous context (a button's action) Swift can only pick the blocking generated method: wrap the
// call in `Task { try await ... }` there.

import Dispatch
import Foundation

/// Where the blocking calls run: a concurrent queue of our own, so that neither the caller's actor nor a
/// thread of Swift's cooperative pool waits for SQLite.
enum Blocking {
    private static let queue = DispatchQueue(
        label: "dev.fieldsync.blocking", qos: .userInitiated, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}

extension FieldSync {
    /// Opens (or creates) the cache off the caller's actor: the database is opened, migrated and
    /// recovered (interrupted imports, the deliveries of a dead process, stray files) on a worker queue.
    public static func open(
        config: FieldSyncConfig,
        secretStore: SecretStore,
        listener: EventListener? = nil
    ) async throws -> FieldSync {
        try await Blocking.run { try FieldSync.open(config: config, secretStore: secretStore, listener: listener) }
    }
}

extension FieldSync {
    /// `addSurveyTemplate` off the caller's actor.
    @discardableResult
    public func addSurveyTemplate(json: String) async throws -> SurveyTemplateInfo {
        try await Blocking.run { try self.addSurveyTemplate(json: json) }
    }

    /// `approvePhoto` off the caller's actor.
    @discardableResult
    public func approvePhoto(uuid: String) async throws -> Photo {
        try await Blocking.run { try self.approvePhoto(uuid: uuid) }
    }

    /// `approveProjectPhotos` off the caller's actor.
    @discardableResult
    public func approveProjectPhotos(projectId: String) async throws -> UInt64 {
        try await Blocking.run { try self.approveProjectPhotos(projectId: projectId) }
    }

    /// `approveSurvey` off the caller's actor.
    @discardableResult
    public func approveSurvey(uuid: String) async throws -> SurveySubmission {
        try await Blocking.run { try self.approveSurvey(uuid: uuid) }
    }

    /// `categoryCounts` off the caller's actor.
    public func categoryCounts() async throws -> CategoryCounts {
        try await Blocking.run { try self.categoryCounts() }
    }

    /// `checkInWithFix` off the caller's actor.
    @discardableResult
    public func checkInWithFix(projectId: String, fix: LocationFix, badge: String?, user: String?) async throws -> CheckIn {
        try await Blocking.run { try self.checkInWithFix(projectId: projectId, fix: fix, badge: badge, user: user) }
    }

    /// `cleanUpDelivered` off the caller's actor.
    @discardableResult
    public func cleanUpDelivered() async throws -> UInt64 {
        try await Blocking.run { try self.cleanUpDelivered() }
    }

    /// `clearSurveyAnswer` off the caller's actor.
    public func clearSurveyAnswer(projectId: String, task: String, questionId: String) async throws {
        try await Blocking.run { try self.clearSurveyAnswer(projectId: projectId, task: task, questionId: questionId) }
    }

    /// `closeProject` off the caller's actor.
    @discardableResult
    public func closeProject(id: String) async throws -> Project {
        try await Blocking.run { try self.closeProject(id: id) }
    }

    /// `completeProject` off the caller's actor.
    @discardableResult
    public func completeProject(projectId: String, forceReason: String?) async throws -> Completion {
        try await Blocking.run { try self.completeProject(projectId: projectId, forceReason: forceReason) }
    }

    /// `completionRequirements` off the caller's actor.
    public func completionRequirements(projectId: String) async throws -> [UnmetRequirement] {
        try await Blocking.run { try self.completionRequirements(projectId: projectId) }
    }

    /// `createIntegration` off the caller's actor.
    @discardableResult
    public func createIntegration(integration: NewIntegration, password: String, token: String?) async throws -> Integration {
        try await Blocking.run { try self.createIntegration(integration: integration, password: password, token: token) }
    }

    /// `createLocalProject` off the caller's actor.
    @discardableResult
    public func createLocalProject(project: NewLocalProject) async throws -> Project {
        try await Blocking.run { try self.createLocalProject(project: project) }
    }

    /// `deleteIntegration` off the caller's actor.
    @discardableResult
    public func deleteIntegration(code: String, force: Bool) async throws -> String? {
        try await Blocking.run { try self.deleteIntegration(code: code, force: force) }
    }

    /// `deleteProject` off the caller's actor.
    public func deleteProject(id: String) async throws {
        try await Blocking.run { try self.deleteProject(id: id) }
    }

    /// `discardOutboxEntry` off the caller's actor.
    public func discardOutboxEntry(uuid: String) async throws {
        try await Blocking.run { try self.discardOutboxEntry(uuid: uuid) }
    }

    /// `editIntegration` off the caller's actor.
    @discardableResult
    public func editIntegration(code: String, edit: IntegrationEdit, password: String?, token: String?) async throws -> Integration {
        try await Blocking.run { try self.editIntegration(code: code, edit: edit, password: password, token: token) }
    }

    /// `editProject` off the caller's actor.
    @discardableResult
    public func editProject(id: String, edit: ProjectEdit) async throws -> Project {
        try await Blocking.run { try self.editProject(id: id, edit: edit) }
    }

    /// `integration` off the caller's actor.
    public func integration(code: String) async throws -> Integration {
        try await Blocking.run { try self.integration(code: code) }
    }

    /// `integrations` off the caller's actor.
    public func integrations() async throws -> [Integration] {
        try await Blocking.run { try self.integrations() }
    }

    /// `markViewed` off the caller's actor.
    public func markViewed(projectId: String) async throws {
        try await Blocking.run { try self.markViewed(projectId: projectId) }
    }

    /// `outbox` off the caller's actor.
    public func outbox(code: String) async throws -> [OutboxEntry] {
        try await Blocking.run { try self.outbox(code: code) }
    }

    /// `pause` off the caller's actor.
    public func pause() async throws {
        try await Blocking.run { try self.pause() }
    }

    /// `photos` off the caller's actor.
    public func photos(projectId: String?) async throws -> [Photo] {
        try await Blocking.run { try self.photos(projectId: projectId) }
    }

    /// `project` off the caller's actor.
    public func project(id: String) async throws -> Project {
        try await Blocking.run { try self.project(id: id) }
    }

    /// `projects` off the caller's actor.
    public func projects(query: ProjectQuery) async throws -> [ProjectSummary] {
        try await Blocking.run { try self.projects(query: query) }
    }

    /// `countProjects` off the caller's actor.
    public func countProjects(query: ProjectQuery) async throws -> Int64 {
        try await Blocking.run { try self.countProjects(query: query) }
    }

    /// `pushKey` off the caller's actor.
    public func pushKey(code: String) async throws -> String {
        try await Blocking.run { try self.pushKey(code: code) }
    }

    /// `rejectPhoto` off the caller's actor.
    @discardableResult
    public func rejectPhoto(uuid: String, reason: String) async throws -> Photo {
        try await Blocking.run { try self.rejectPhoto(uuid: uuid, reason: reason) }
    }

    /// `rejectSurvey` off the caller's actor.
    @discardableResult
    public func rejectSurvey(uuid: String, reason: String) async throws -> SurveySubmission {
        try await Blocking.run { try self.rejectSurvey(uuid: uuid, reason: reason) }
    }

    /// `resolvedOptions` off the caller's actor.
    public func resolvedOptions(projectId: String, task: String?) async throws -> ResolvedOptions {
        try await Blocking.run { try self.resolvedOptions(projectId: projectId, task: task) }
    }

    /// `resume` off the caller's actor.
    public func resume() async throws {
        try await Blocking.run { try self.resume() }
    }

    /// `retryAllFailed` off the caller's actor.
    @discardableResult
    public func retryAllFailed() async throws -> UInt64 {
        try await Blocking.run { try self.retryAllFailed() }
    }

    /// `retryOutboxEntry` off the caller's actor.
    public func retryOutboxEntry(uuid: String) async throws {
        try await Blocking.run { try self.retryOutboxEntry(uuid: uuid) }
    }

    /// `saveSurveyAnswer` off the caller's actor.
    @discardableResult
    public func saveSurveyAnswer(projectId: String, task: String, questionId: String, answer: SurveyAnswer) async throws -> SurveyAnswer {
        try await Blocking.run { try self.saveSurveyAnswer(projectId: projectId, task: task, questionId: questionId, answer: answer) }
    }

    /// `setCheckInBadge` off the caller's actor.
    public func setCheckInBadge(badge: String) async throws {
        try await Blocking.run { try self.setCheckInBadge(badge: badge) }
    }

    /// `setDeviceOptions` off the caller's actor.
    public func setDeviceOptions(optionsJson: String) async throws {
        try await Blocking.run { try self.setDeviceOptions(optionsJson: optionsJson) }
    }

    /// `setProjectLocation` off the caller's actor.
    public func setProjectLocation(projectId: String, latitude: Double, longitude: Double) async throws {
        try await Blocking.run { try self.setProjectLocation(projectId: projectId, latitude: latitude, longitude: longitude) }
    }

    /// `setSoftwareSigner` off the caller's actor.
    public func setSoftwareSigner(deviceKeyPem: String, chainPem: String) async throws {
        try await Blocking.run { try self.setSoftwareSigner(deviceKeyPem: deviceKeyPem, chainPem: chainPem) }
    }

    /// `setUploadPolicy` off the caller's actor.
    public func setUploadPolicy(policy: UploadPolicy) async throws {
        try await Blocking.run { try self.setUploadPolicy(policy: policy) }
    }

    /// `shutdown` off the caller's actor.
    public func shutdown() async {
        await Blocking.run { self.shutdown() }
    }

    /// `startAutoImport` off the caller's actor.
    public func startAutoImport(intervalSecs: UInt64) async throws {
        try await Blocking.run { try self.startAutoImport(intervalSecs: intervalSecs) }
    }

    /// `submitSurvey` off the caller's actor.
    @discardableResult
    public func submitSurvey(projectId: String, task: String) async throws -> SurveySubmission {
        try await Blocking.run { try self.submitSurvey(projectId: projectId, task: task) }
    }

    /// `surveySubmissions` off the caller's actor.
    public func surveySubmissions(projectId: String?) async throws -> [SurveySubmission] {
        try await Blocking.run { try self.surveySubmissions(projectId: projectId) }
    }

    /// `surveyTemplates` off the caller's actor.
    public func surveyTemplates() async throws -> [SurveyTemplateInfo] {
        try await Blocking.run { try self.surveyTemplates() }
    }

    /// `syncStatus` off the caller's actor.
    public func syncStatus() async throws -> SyncStatus {
        try await Blocking.run { try self.syncStatus() }
    }

    /// `taskSurvey` off the caller's actor.
    public func taskSurvey(projectId: String, task: String) async throws -> TaskSurvey {
        try await Blocking.run { try self.taskSurvey(projectId: projectId, task: task) }
    }

    /// `uploadLog` off the caller's actor.
    public func uploadLog() async throws -> [UploadLogEntry] {
        try await Blocking.run { try self.uploadLog() }
    }

    /// `uploadPolicy` off the caller's actor.
    public func uploadPolicy() async throws -> UploadPolicy {
        try await Blocking.run { try self.uploadPolicy() }
    }
}
